import Foundation
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

@testable import VPPHTTPAPI

/// Apple's webhook body is decoded into typed values at the edge: a malformed body is a 400 naming what is
/// wrong, and nothing is recorded (the same notification id is still handled when it arrives well formed).
@Suite("Apple webhook payloads")
struct AppleWebhookPayloadTests {
    @Test(
        "malformed notification bodies are 400 bad_notification naming the problem, and change nothing",
        arguments: StoreKind.allCases
    )
    func malformedBodiesChangeNothing(kind: StoreKind) async throws {
        try await withAPI(kind) { api in
            let world = api.world
            let (file, _) = try await world.location("A", assets: [keynoteSim])
            let token = try #require(try await world.useCases.uploadToken(world.admin, file: file).token)
            let secret = try world.ports.secrets.seal("hook-secret")
            try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.setNotificationSecret(token.id, secret: secret)
            }
            func counts() async throws -> [TokenAssetCounts] {
                try await world.store.inTenant(world.tenant.id) { tx in try await tx.counts(tokenID: token.id) }
            }
            let audit = world.useCases.catalogue
            let countsBefore = try await counts()
            let auditBefore = try await audit.auditLog(world.admin, limit: 1000).count
            let path = "/apple/notifications/\(token.id)"
            let bearer = ["Authorization": "Bearer hook-secret"]
            let malformed: [(body: String, names: String)] = [
                ("not json at all", "not JSON"),
                (#"{"notificationType":"ASSET_COUNT"}"#, "notificationId is missing"),
                (#"{"notificationId":7,"notificationType":"ASSET_COUNT"}"#, "notificationId has the wrong type"),
                (
                    #"{"notificationId":"n-1","notificationType":"ASSET_COUNT","#
                        + #""notification":{"adamId":"408709785","countDelta":"five"}}"#,
                    "notification.countDelta has the wrong type"
                ),
                (#"["notificationId","n-1"]"#, "not a JSON object"),
            ]
            for (body, names) in malformed {
                let answer = try await api.call("POST", path, raw: Data(body.utf8), headers: bearer)
                #expect(answer.status == 400, "\(body)")
                #expect(answer.errorCode == "bad_notification", "\(body)")
                #expect(answer.errorMessage.contains(names), "\(body): \(answer.errorMessage)")
            }
            #expect(try await counts() == countsBefore, "no count moved")
            #expect(try await audit.auditLog(world.admin, limit: 1000).count == auditBefore, "nothing audited")

            // The id was never recorded: the well-formed notification with it is handled, not a duplicate.
            let good =
                #"{"notificationId":"n-1","notificationType":"ASSET_COUNT","#
                + #""notification":{"adamId":408709785,"countDelta":5,"pricingParam":"STDQ"}}"#
            let handled = try await api.call("POST", path, raw: Data(good.utf8), headers: bearer)
            #expect(handled.status == 200 && handled.text.contains("handled"), "\(handled.text)")
            #expect(try await counts().first?.counts.total == (countsBefore.first?.counts.total ?? 0) + 5)
        }
    }

    @Test("the envelope decodes into typed values for each notification type vpp acts on")
    func typedValues() throws {
        func decode(_ json: String) throws -> AppleNotification { try AppleWebhookGate.decode(Data(json.utf8)) }
        #expect(
            try decode(#"{"notificationId":"a","notificationType":"ASSET_MANAGEMENT","notification":{"eventId":"e"}}"#)
                .kind == .assetManagement(eventID: "e")
        )
        #expect(
            try decode(
                #"{"notificationId":"b","notificationType":"ASSET_COUNT","#
                    + #""notification":{"adamId":"1","countDelta":-2,"pricingParam":"PLUS"}}"#
            ).kind == .assetCount(AssetCountChange(asset: AssetKey(adamID: "1", pricingParam: .plus), delta: -2))
        )
        #expect(
            try decode(#"{"notificationId":"c","notificationType":"ASSET_COUNT","notification":{}}"#).kind
                == .assetCount(nil)
        )
        #expect(try decode(#"{"notificationId":"d","notificationType":"USER_ASSOCIATED"}"#).kind == .usersChanged)
        #expect(try decode(#"{"notificationId":"e","notificationType":"TEST_NOTIFICATION"}"#).kind == .test)
        let other = try decode(#"{"notificationId":"f","notificationType":"UNLIMITED_ASSET"}"#)
        #expect(other.kind == .other && other.type == "UNLIMITED_ASSET")
        #expect(throws: UseCaseError.badNotification("notificationType is missing")) {
            try decode(#"{"notificationId":"g"}"#)
        }
    }
}
