import Foundation
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

@Suite("Declarations API: a device's status posted, the DDM server, one device's apps (both databases)")
struct DeclarationAPITests {
    static let report = Data(
        #"""
        {"StatusItems": {"app": {"managed": {"list": [
          {"identifier": "com.apple.Keynote", "declaration-identifier": "vpp.app.408709785.STDQ.device",
           "state": "managed", "external-version-id": 8675309, "version": "14.2"},
          {"identifier": "com.other", "declaration-identifier": "com.other.declaration", "state": "managed"}
        ]}}}, "Errors": []}
        """#.utf8
    )

    @Test(
        "POST /v1/device-status: 404 unknown, 400 unreadable (nothing changed), 403 reader, 200 twice alike",
        arguments: StoreKind.allCases
    )
    func deviceStatus(kind: StoreKind) async throws {
        try await withAPI(kind) { api in
            let world = api.world
            var answer = try await api.call("POST", "/v1/device-status/UDID-1", key: api.adminKey, raw: Self.report)
            #expect(answer.status == 404 && answer.errorCode == "unknown_device", "\(answer.text)")
            #expect(answer.errorMessage.contains("UDID-1"))

            let serial = try #require(try await world.addDevices(1).first)
            try await world.enrolledAndJoined(serial, enrollmentID: "UDID-1")
            for (bad, needle) in [
                ("nope", "not a JSON object"), (#"{"StatusItems": {"app": {"managed": {"list": {}}}}}"#, "not a list"),
                (#"{"StatusItems": {"app": {"managed": {"list": [{"state": "managed"}]}}}}"#, "without an identifier"),
            ] {
                answer = try await api.call("POST", "/v1/device-status/UDID-1", key: api.adminKey, raw: Data(bad.utf8))
                #expect(answer.status == 400 && answer.errorCode == "bad_status_report", "\(bad): \(answer.text)")
                #expect(answer.errorMessage.contains(needle), "\(answer.errorMessage)")
            }
            answer = try await api.call("GET", "/v1/devices/\(serial.value)", key: api.readerKey)
            var app = (answer.object["apps"] as? [[String: Any]])?.first ?? [:]
            #expect(app["deviceState"] == nil && app["install"] == nil, "nothing recorded: \(answer.text)")
            answer = try await api.call("POST", "/v1/device-status/UDID-1", key: api.readerKey, raw: Self.report)
            #expect(answer.status == 403)

            answer = try await api.call("POST", "/v1/device-status/UDID-1", key: api.adminKey, raw: Self.report)
            #expect(answer.status == 200, "\(answer.text)")
            let recorded = answer.object["recorded"] as? [[String: Any]] ?? []
            #expect(recorded.count == 1 && recorded.first?["outcome"] as? String == "verified")
            #expect(answer.object["ignored"] as? Int == 1)
            let again = try await api.call("POST", "/v1/device-status/UDID-1", key: api.adminKey, raw: Self.report)
            #expect(again.status == 200 && again.text == answer.text, "a report posted twice: the same answer")

            answer = try await api.call("GET", "/v1/devices/\(serial.value)", key: api.readerKey)
            #expect(answer.status == 200, "\(answer.text)")
            #expect((answer.object["device"] as? [String: Any])?["udid"] as? String == "UDID-1")
            app = (answer.object["apps"] as? [[String: Any]])?.first ?? [:]
            #expect(app["delivery"] as? String == "declaration" && app["install"] as? String == "verified")
            #expect(
                app["deviceState"] as? String == "managed"
                    && app["declaration"] as? String == "vpp.app.408709785.STDQ.device"
            )
            #expect(app["join"] as? String == "queued" && app["reportedAt"] != nil)
            answer = try await api.call("GET", "/v1/devices/ZZZZ00000001", key: api.readerKey)
            #expect(answer.status == 404 && answer.errorCode == "unknown_device")
            answer = try await api.call("GET", "/v1/devices/x", key: api.readerKey)
            #expect(answer.status == 422 && answer.errorCode == "invalid_serial_number", "\(answer.text)")
        }
    }

    @Test(
        "PUT/GET /v1/mdm/declarations: the key is write-only, bad input named, mdm-admin only",
        arguments: StoreKind.allCases
    )
    func declarationServer(kind: StoreKind) async throws {
        try await withAPI(kind) { api in
            var answer = try await api.call("GET", "/v1/mdm/declarations", key: api.readerKey)
            #expect(answer.status == 200 && answer.object["kind"] as? String == "off")
            #expect(answer.object["delivery"] as? String == "commands" && answer.object["url"] == nil)
            let body: [String: Any] = ["kind": "kmfddm", "url": "http://127.0.0.1:9/", "apiKey": "ddm-secret-key"]
            answer = try await api.call("PUT", "/v1/mdm/declarations", key: api.adminKey, json: body)
            #expect(answer.status == 403, "an app manager may not choose where the key goes")
            for (bad, needle) in [
                (["kind": "jamf"], "kind must be one of"),
                (["kind": "kmfddm", "url": "ftp://ddm", "apiKey": "k"], "ftp://ddm"),
                (["kind": "kmfddm", "url": "http://127.0.0.1:9"], "API key"),
            ] {
                answer = try await api.call("PUT", "/v1/mdm/declarations", key: api.ownerKey, json: bad)
                #expect(answer.status == 422 && answer.errorMessage.contains(needle), "\(bad): \(answer.text)")
            }
            answer = try await api.call("GET", "/v1/mdm/declarations", key: api.readerKey)
            #expect(answer.object["kind"] as? String == "off", "refused input changed nothing")
            answer = try await api.call("PUT", "/v1/mdm/declarations", key: api.ownerKey, json: body)
            #expect(answer.status == 200 && answer.object["kind"] as? String == "kmfddm", "\(answer.text)")
            #expect(answer.object["url"] as? String == "http://127.0.0.1:9" && !answer.text.contains("ddm-secret-key"))
            answer = try await api.call("GET", "/v1/mdm/declarations", key: api.readerKey)
            #expect(answer.object["kind"] as? String == "kmfddm" && !answer.text.contains("ddm-secret-key"))
            answer = try await api.call("PUT", "/v1/mdm/declarations", key: api.ownerKey, json: ["kind": "off"])
            #expect(answer.status == 200 && answer.object["kind"] as? String == "off" && answer.object["url"] == nil)
        }
    }

    @Test(
        "PUT /v1/mdm/declarations webhook: its whsec_ secret answered once, never read back",
        arguments: StoreKind.allCases
    )
    func webhookServer(kind: StoreKind) async throws {
        try await withAPI(kind) { api in
            var answer = try await api.call(
                "PUT",
                "/v1/mdm/declarations",
                key: api.ownerKey,
                json: ["kind": "webhook", "url": "ftp://ddm"]
            )
            #expect(answer.status == 422 && answer.errorMessage.contains("ftp://ddm"), "\(answer.text)")
            answer = try await api.call(
                "PUT",
                "/v1/mdm/declarations",
                key: api.ownerKey,
                json: ["kind": "webhook", "url": "http://127.0.0.1:9/hooks/ddm"]
            )
            #expect(answer.status == 200 && answer.object["kind"] as? String == "webhook", "\(answer.text)")
            let secret = try #require(answer.object["signingSecret"] as? String)
            #expect(secret.hasPrefix("whsec_") && (Data(base64Encoded: String(secret.dropFirst(6)))?.count ?? 0) == 32)
            answer = try await api.call("GET", "/v1/mdm/declarations", key: api.readerKey)
            #expect(answer.object["kind"] as? String == "webhook" && answer.object["signingSecret"] == nil)
            #expect(answer.object["url"] as? String == "http://127.0.0.1:9/hooks/ddm" && !answer.text.contains(secret))
        }
    }

    @Test(
        "webhook chosen again keeps the receiver's secret (a new URL too); rotateSecret makes a new one, answered once",
        arguments: StoreKind.allCases
    )
    func webhookSecretKept(kind: StoreKind) async throws {
        try await withAPI(kind) { api in
            let world = api.world
            func stored() async throws -> String? {
                let settings = try await world.store.inTenant(world.tenant.id) { tx in
                    try await tx.declarationPublisher()
                }
                return try settings.apiKey.map { try world.ports.secrets.open($0) }
            }
            func choose(_ body: [String: Any]) async throws -> [String: Any] {
                let answer = try await api.call("PUT", "/v1/mdm/declarations", key: api.ownerKey, json: body)
                #expect(answer.status == 200, "\(answer.text)")
                return answer.object
            }
            let url = "http://127.0.0.1:9/hooks/ddm"
            let first = try #require(try await choose(["kind": "webhook", "url": url])["signingSecret"] as? String)
            #expect(try await stored() == first)
            var answer = try await choose(["kind": "webhook", "url": url])
            #expect(answer["signingSecret"] == nil, "chosen again: the secret is not shown (it did not change)")
            answer = try await choose([
                "kind": "webhook", "url": "http://127.0.0.1:9/hooks/other", "rotateSecret": false,
            ])
            #expect(answer["signingSecret"] == nil && answer["url"] as? String == "http://127.0.0.1:9/hooks/other")
            #expect(try await stored() == first, "the receiver still verifies with the first secret")
            let rotated = try #require(
                try await choose(["kind": "webhook", "url": url, "rotateSecret": true])["signingSecret"] as? String
            )
            #expect(rotated != first && rotated.hasPrefix("whsec_"))
            #expect(try await stored() == rotated)
            // Another kind in between: webhook chosen after it starts with a new secret.
            _ = try await choose(["kind": "off"])
            let fresh = try #require(try await choose(["kind": "webhook", "url": url])["signingSecret"] as? String)
            let now = try await stored()
            #expect(fresh != rotated && now == fresh)
        }
    }
}
