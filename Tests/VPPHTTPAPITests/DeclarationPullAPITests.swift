import Foundation
import Testing
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
}
