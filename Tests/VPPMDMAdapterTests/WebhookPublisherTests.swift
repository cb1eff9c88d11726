import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Testing
import VPPDomain
import VPPMDMWebhook
import VPPUseCases

/// Declarations as Standard Webhooks events to a receiver on a real port.
@Suite("Declarations as Standard Webhooks over real HTTP")
struct WebhookPublisherTests {
    static func verify(_ headers: HTTPFields, _ body: Data, key: [UInt8]) throws -> [String: Any] {
        let id = try #require(headers[HTTPField.Name("webhook-id")!])
        let timestamp = try #require(headers[HTTPField.Name("webhook-timestamp")!].flatMap(Int.init))
        let expected = HMAC<SHA256>.authenticationCode(
            for: Data("\(id).\(timestamp).".utf8) + body,
            using: SymmetricKey(data: key)
        )
        #expect(headers[HTTPField.Name("webhook-signature")!] == "v1," + Data(expected).base64EncodedString())
        return try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
    }

    @Test(
        """
        the declaration, then joins and leaves: signed events, the id stable on a retry and new for new content; \
        410 stops
        """
    )
    func events() async throws {
        let secretBytes = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let secret = "whsec_" + Data(secretBytes).base64EncodedString()
        let declaration = try ManagedAppDeclaration(
            asset: AssetKey(adamID: "408709785"),
            assignment: .device,
            terms: try DeclarationTerms(install: .optional)
        )
        // 1: 503 (retried), 2–5: 200, then 410.
        try await DeliveryAdapterTests.withReceiver({ $0 == 1 ? .serviceUnavailable : ($0 <= 5 ? .ok : .gone) }) {
            url,
            seen in
            let publisher = try StandardWebhookPublisher(url: url + "/hook", secret: secret, client: HTTPClient.shared)
            let document = try declaration.document(publication: 0)
            guard
                case .retry(let reason, _) = await publisher.publish(
                    document,
                    identifier: declaration.identifier,
                    set: "s"
                )
            else {
                Issue.record("503 delivered")
                return
            }
            #expect(reason.contains("503"))
            #expect(await publisher.publish(document, identifier: declaration.identifier, set: "s") == .delivered)
            let change = UUID()
            let joined = await publisher.setMembership(enrollmentID: "UDID-1", set: "s", member: true, changeID: change)
            #expect(joined == .delivered)
            let leave = UUID()
            #expect(
                await publisher.setMembership(enrollmentID: "UDID-1", set: "s", member: false, changeID: leave)
                    == .delivered
            )
            // New content: the re-published declaration (new ServerToken) is a new event id.
            let again = try declaration.document(publication: 1)
            #expect(await publisher.publish(again, identifier: declaration.identifier, set: "s") == .delivered)
            guard case .endpointGone = await publisher.setMembership(enrollmentID: "U", set: "s", member: true) else {
                Issue.record("410 not honoured")
                return
            }
            let requests = seen.withLock { $0 }
            #expect(requests.count == 6)
            let ids = requests.map { $0.0[HTTPField.Name("webhook-id")!] ?? "" }
            #expect(ids[0] == ids[1] && ids[0].hasPrefix("msg_decl_"), "a retry repeats the receiver's idempotency key")
            #expect(ids[2] == "msg_set_" + change.uuidString.lowercased())
            #expect(ids[3] == "msg_set_" + leave.uuidString.lowercased())
            #expect(Set(ids).count == 5, "every other event, and the re-published declaration, has its own id")
            let events = try requests.map { try Self.verify($0.0, $0.1, key: secretBytes) }
            #expect(
                events.map { $0["type"] as? String ?? "" }.suffix(5) == [
                    "declaration.published", "declaration_set.joined", "declaration_set.left", "declaration.published",
                    "declaration_set.joined",
                ]
            )
            let published = try #require(events[1]["data"] as? [String: Any])
            #expect(
                published["identifier"] as? String == "vpp.app.408709785.STDQ.device"
                    && published["set"] as? String == "s"
            )
            let sent = try #require(published["declaration"] as? [String: Any])
            #expect(sent["Type"] as? String == "com.apple.configuration.app.managed")
            #expect(sent["ServerToken"] as? String == declaration.serverToken(publication: 0))
            let install = (sent["Payload"] as? [String: Any])?["InstallBehavior"] as? [String: Any]
            #expect(install?["Install"] as? String == "Optional")
            let join = try #require(events[2]["data"] as? [String: Any])
            #expect(join["enrollmentId"] as? String == "UDID-1" && join["set"] as? String == "s")
        }
        #expect(throws: StandardWebhookDelivery.BadSecret.self) {
            try StandardWebhookPublisher(url: "http://x", secret: "whsec_short", client: HTTPClient.shared)
        }
    }
}
