import Foundation
import Testing
import VPPAppleSimulator
import VPPDomain
import VPPTestSupport
import VPPUseCases

@Suite("Declarations pull API: a DDM server that polls the queued set changes and reports them (both databases)")
struct DeclarationPullAPITests {
    @Test(
        "GET /v1/declaration-changes pages joins with their document; ack done takes one off; refusals named",
        arguments: StoreKind.allCases
    )
    func pull(kind: StoreKind) async throws {
        try await withAPI(kind) { api in
            let world = api.world
            var answer = try await api.call(
                "PUT",
                "/v1/mdm/declarations",
                key: api.ownerKey,
                json: ["kind": "pull"]
            )
            #expect(answer.status == 200 && answer.object["kind"] as? String == "pull", "\(answer.text)")
            let serials = try await world.addDevices(2)
            let asset = AssetKey(adamID: "408709785")
            try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.saveEnrollment(
                    serials[0],
                    MDMEnrollment(state: .enrolled, enrollmentID: "UDID-1", platform: .iOS)
                )
                try await tx.enqueueDeclarationSetChanges(
                    serials.enumerated().map { index, serial in
                        DeclarationSetChange(
                            serialNumber: serial.value,
                            asset: asset,
                            licenceKind: .device,
                            kind: .join,
                            assignmentID: AssignmentID(),
                            createdAt: world.clock.now().addingTimeInterval(Double(index))
                        )
                    }
                )
            }
            answer = try await api.call("GET", "/v1/declaration-changes?limit=1", key: api.readerKey)
            #expect(answer.status == 200, "\(answer.text)")
            var changes = answer.object["changes"] as? [[String: Any]] ?? []
            #expect(changes.count == 1)
            let first = try #require(changes.first)
            #expect(first["change"] as? String == "join" && first["enrollmentId"] as? String == "UDID-1")
            #expect(first["set"] as? String == "vpp.app.408709785.STDQ.device")
            let text = try #require(first["declaration"] as? String)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(document["Identifier"] as? String == "vpp.app.408709785.STDQ.device")
            #expect(document["Type"] as? String == "com.apple.configuration.app.managed")
            let next = try #require(answer.object["next"] as? String)
            answer = try await api.call("GET", "/v1/declaration-changes?after=\(next)", key: api.readerKey)
            changes = answer.object["changes"] as? [[String: Any]] ?? []
            #expect(changes.count == 1 && changes.first?["serialNumber"] as? String == serials[1].value)
            #expect(changes.first?["enrollmentId"] == nil, "not enrolled yet: no enrollment to change")
            #expect(answer.object["next"] == nil)
            answer = try await api.call("GET", "/v1/declaration-changes?after=nope", key: api.readerKey)
            #expect(answer.status == 400)

            let id = try #require(first["id"] as? String)
            let ack = "/v1/declaration-changes/\(id)/ack"
            answer = try await api.call("POST", ack, key: api.readerKey, json: ["status": "done"])
            #expect(answer.status == 403)
            answer = try await api.call("POST", ack, key: api.adminKey, json: ["status": "queued"])
            #expect(answer.status == 409 && answer.errorMessage.contains("done or failed"), "\(answer.text)")
            answer = try await api.call("POST", ack, key: api.adminKey, json: ["status": "done"])
            #expect(answer.status == 200 && answer.object["state"] as? String == "done", "\(answer.text)")
            answer = try await api.call("POST", ack, key: api.adminKey, json: ["status": "done"])
            #expect(answer.status == 200, "reported twice alike: \(answer.text)")
            answer = try await api.call("POST", ack, key: api.adminKey, json: ["status": "failed", "error": "x"])
            #expect(answer.status == 409 && answer.errorMessage.contains("already done"), "\(answer.text)")
            answer = try await api.call(
                "POST",
                "/v1/declaration-changes/\(UUID().uuidString)/ack",
                key: api.adminKey,
                json: ["status": "done"]
            )
            #expect(answer.status == 404 && answer.errorCode == "unknown_declaration_change", "\(answer.text)")
            answer = try await api.call("GET", "/v1/declaration-changes", key: api.readerKey)
            changes = answer.object["changes"] as? [[String: Any]] ?? []
            #expect(changes.map { $0["serialNumber"] as? String } == [serials[1].value], "the done one is off the list")
        }
    }

    static func report(_ state: String, reasons: [String] = []) -> Data {
        let item: [String: Any] = [
            "identifier": "com.apple.Keynote", "declaration-identifier": "vpp.app.408709785.STDQ.device",
            "state": state, "reasons": reasons.map { ["code": $0] },
        ]
        let report: [String: Any] = ["StatusItems": ["app": ["managed": ["list": [item]]]], "Errors": [Any]()]
        return (try? JSONSerialization.data(withJSONObject: report)) ?? Data()
    }

    /// The declaration document's ServerToken in a page's join.
    static func serverToken(_ change: [String: Any]) -> String? {
        let text = change["declaration"] as? String ?? ""
        return ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any])?["ServerToken"] as? String
    }

    @Test(
        """
        A heal's re-publication is offered to the puller: the device's join again, with a new ServerToken; \
        reported done, the heal is re-published and the next managed report verifies
        """,
        arguments: StoreKind.allCases
    )
    func healRepublishedToPuller(kind: StoreKind) async throws {
        try await withAPI(kind) { api in
            let world = api.world
            let (file, uid) = try await world.location(
                "A",
                assets: [SimAsset(adamId: "408709785", totalCount: 10, name: "Keynote")]
            )
            _ = try await world.useCases.uploadToken(world.admin, file: file)
            var answer = try await api.call("PUT", "/v1/mdm/declarations", key: api.ownerKey, json: ["kind": "pull"])
            #expect(answer.status == 200, "\(answer.text)")
            let serial = try #require(try await world.addDevices(1).first)
            try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.setAppDelivery(.declarations, now: world.clock.now())
                try await tx.saveEnrollment(
                    serial,
                    MDMEnrollment(state: .enrolled, enrollmentID: "UDID-1", platform: .iOS)
                )
            }
            _ = try await world.useCases.assignLicences(
                world.admin,
                asset: AssetKey(adamID: "408709785"),
                to: [.device(serial)]
            )
            try await world.settleEvents()
            // The puller takes the join and reports it done.
            answer = try await api.call("GET", "/v1/declaration-changes", key: api.readerKey)
            let join = try #require((answer.object["changes"] as? [[String: Any]])?.first, "\(answer.text)")
            let firstToken = try #require(Self.serverToken(join))
            let id = try #require(join["id"] as? String)
            answer = try await api.call(
                "POST",
                "/v1/declaration-changes/\(id)/ack",
                key: api.adminKey,
                json: [
                    "status": "done"
                ]
            )
            #expect(answer.status == 200, "\(answer.text)")
            answer = try await api.call("GET", "/v1/declaration-changes", key: api.readerKey)
            #expect((answer.object["changes"] as? [[String: Any]])?.isEmpty == true)

            // Apple loses the licence; the device reports LicenseNotFound; vpp re-associates.
            try await world.simulator.dropAssignments(adamId: "408709785", serialNumbers: [serial.value], at: uid)
            answer = try await api.call(
                "POST",
                "/v1/device-status/UDID-1",
                key: api.adminKey,
                raw: Self.report("failed", reasons: ["Error.LicenseNotFound"])
            )
            #expect(answer.status == 200, "\(answer.text)")
            try await world.settleEvents()

            // The re-publication is offered: the same join, queued again, with a new ServerToken.
            answer = try await api.call("GET", "/v1/declaration-changes", key: api.readerKey)
            let offered = answer.object["changes"] as? [[String: Any]] ?? []
            #expect(offered.count == 1 && offered.first?["id"] as? String == id, "\(answer.text)")
            #expect(
                offered.first?["change"] as? String == "join" && offered.first?["enrollmentId"] as? String == "UDID-1"
            )
            let newToken = try #require(offered.first.flatMap(Self.serverToken))
            #expect(newToken != firstToken, "a new ServerToken makes the device evaluate again")
            answer = try await api.call(
                "POST",
                "/v1/declaration-changes/\(id)/ack",
                key: api.adminKey,
                json: [
                    "status": "done"
                ]
            )
            #expect(answer.status == 200 && answer.object["healState"] as? String == "republished", "\(answer.text)")
            let due = try await world.store.inTenant(world.tenant.id) { tx in try await tx.dueRepublications() }
            #expect(due.isEmpty, "nothing left due: \(due)")
            answer = try await api.call("GET", "/v1/declaration-changes", key: api.readerKey)
            #expect((answer.object["changes"] as? [[String: Any]])?.isEmpty == true)

            world.clock.advance(seconds: 1)
            answer = try await api.call(
                "POST",
                "/v1/device-status/UDID-1",
                key: api.adminKey,
                raw: Self.report("managed")
            )
            #expect(answer.status == 200, "\(answer.text)")
            answer = try await api.call("GET", "/v1/devices/\(serial.value)", key: api.readerKey)
            let app = (answer.object["apps"] as? [[String: Any]])?.first ?? [:]
            #expect(app["install"] as? String == "verified" && app["join"] as? String == "done", "\(answer.text)")
        }
    }
}
