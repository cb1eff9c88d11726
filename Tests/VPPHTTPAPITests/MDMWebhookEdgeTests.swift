import Foundation
import Testing
import VPPDomain
import VPPHTTPAPI
import VPPTestSupport
import VPPUseCases

/// Issue 26: the MDM server's webhook is decoded at the HTTP edge, like Apple's notifications; vpp records its own
/// typed form, and still processes events recorded as received before the upgrade.
@Suite("The MDM webhook decoded at the edge")
struct MDMWebhookEdgeTests {
    static let hmacKey = "edge-hmac-key"
    static let udid = "00008030-001A35E11A53802E"

    static func body(_ object: [String: Any]) throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    static func plist(_ payload: [String: Any]) throws -> String {
        try PropertyListSerialization.data(fromPropertyList: payload, format: .xml, options: 0).base64EncodedString()
    }

    static func checkIn(_ topic: String, payload: [String: Any]?, tally: Int? = nil) throws -> Data {
        var checkIn: [String: Any] = ["udid": udid, "raw_payload": try payload.map(plist) ?? ""]
        if let tally { checkIn["token_update_tally"] = tally }
        return try body([
            "topic": topic, "event_id": UUID().uuidString, "created_at": "2026-12-07T00:00:00Z",
            "checkin_event": checkIn,
        ])
    }

    static func authenticate(serial: String) throws -> Data {
        try checkIn(
            "mdm.Authenticate",
            payload: ["SerialNumber": serial, "UDID": udid, "ProductName": "iPad13,4", "OSVersion": "18.1"]
        )
    }

    static func signature(_ body: Data) -> String {
        Data(HMACSHA256.mac(key: Array(hmacKey.utf8), message: Array(body))).base64EncodedString()
    }

    static func connect(_ api: APIBench) async throws {
        let connect = try await api.call(
            "PUT",
            "/v1/mdm",
            key: api.ownerKey,
            json: ["kind": "nanomdm", "url": "https://mdm.example.com", "apiKey": "k", "webhookHmacKey": hmacKey]
        )
        #expect(connect.status == 200, "\(connect.text)")
    }

    static func post(_ api: APIBench, _ body: Data, signed: Bool = true) async throws -> APIBench.Answer {
        try await api.call(
            "POST",
            "/mdm/webhook/\(api.world.tenant.id)",
            raw: body,
            headers: signed ? ["X-Hmac-Signature": signature(body)] : [:]
        )
    }

    static func stored(_ api: APIBench) async throws -> [MDMEventRecord] {
        try await api.world.store.inTenant(api.world.tenant.id) { tx in try await tx.mdmEvents(limit: 100) }
    }

    @Test(
        """
        a signed malformed body is refused at the edge with 400 bad_mdm_event naming the problem, and nothing is \
        stored; an unsigned one is 401 first
        """,
        arguments: StoreKind.allCases
    )
    func malformedRefused(kind: StoreKind) async throws {
        try await withAPI(kind) { api in
            try await Self.connect(api)
            let statusCheckIn: [String: Any] = [
                "MessageType": "DeclarativeManagement", "Endpoint": "status", "UDID": Self.udid,
                "Data": Data("not a report".utf8),
            ]
            let cases: [(Data, String)] = [
                (Data("not json".utf8), "not JSON"),
                (try Self.body(["event_id": "1"]), "topic is missing"),
                (try Self.body(["topic": "mdm.CheckOut"]), "checkin_event is missing"),
                (
                    try Self.body([
                        "topic": "mdm.Authenticate", "checkin_event": ["udid": Self.udid, "raw_payload": "%%"],
                    ]),
                    "raw_payload is not base64"
                ),
                (
                    try Self.checkIn("mdm.TokenUpdate", payload: nil, tally: 1).replacingUDID("a/../b"),
                    "not an enrollment id"
                ),
                (try Self.checkIn("mdm.DeclarativeManagement", payload: statusCheckIn), "status report"),
                (
                    try Self.body([
                        "topic": "mdm.Connect",
                        "acknowledge_event": ["udid": Self.udid, "status": "Sometimes", "command_uuid": "x"],
                    ]),
                    "acknowledge_event.status must be one of"
                ),
            ]
            for (body, reason) in cases {
                let answer = try await Self.post(api, body)
                #expect(answer.status == 400 && answer.errorCode == "bad_mdm_event", "\(reason): \(answer.text)")
                #expect(answer.errorMessage.contains(reason), "\(reason): \(answer.errorMessage)")
                let unsigned = try await Self.post(api, body, signed: false)
                #expect(unsigned.status == 401, "the signature is checked before the body: \(unsigned.text)")
            }
            #expect(try await Self.stored(api).isEmpty, "nothing stored")
        }
    }

    @Test(
        """
        a good event is stored in vpp's typed form (no check-in plist) and processed; events stored as received \
        before the upgrade are still processed
        """,
        arguments: StoreKind.allCases
    )
    func typedFormAndReceivedForm(kind: StoreKind) async throws {
        try await withAPI(kind) { api in
            try await Self.connect(api)
            let tenant = api.world.tenant.id
            let authenticate = try Self.authenticate(serial: "C02EDGE00001")
            #expect(try await Self.post(api, authenticate).object["recorded"] as? String == "pending")
            let first = try #require(try await Self.stored(api).first)
            guard case .decoded(let event) = MDMEvent.stored(first.body) else {
                Issue.record("not stored in vpp's form: \(first.body)")
                return
            }
            guard case .authenticate(let checkIn) = event.kind else {
                Issue.record("\(event)")
                return
            }
            #expect(checkIn.serial?.value == "C02EDGE00001" && checkIn.enrollmentID.value == Self.udid)
            #expect(checkIn.productName == "iPad13,4" && checkIn.osVersion == "18.1")
            #expect(!first.body.contains("raw_payload") && first.body.utf8.count < authenticate.count)
            // The repeat check is still by id and content: the same body again is a duplicate.
            #expect(try await Self.post(api, authenticate).object["recorded"] as? String == "duplicate")
            #expect(try await Self.post(api, try Self.checkIn("mdm.TokenUpdate", payload: nil, tally: 1)).status == 200)
            try await api.world.useCases.processMDMEvents(tenant)
            let device = try #require(try await api.world.useCases.manageInventory.devices(api.world.reader).first)
            #expect(device.enrollment.state == .enrolled && device.enrollment.enrollmentID == Self.udid)

            // Recorded as received (MicroMDM JSON) by a vpp before this change: read by the edge's format.
            let now = api.world.clock.now()
            let legacy = [
                try Self.checkIn("mdm.CheckOut", payload: nil),
                try Self.checkIn("mdm.TokenUpdate", payload: nil, tally: 1).replacingUDID("a/../b"),
            ]
            try await api.world.store.inTenant(tenant) { tx in
                for (index, body) in legacy.enumerated() {
                    _ = try await tx.recordMDMEvent(
                        MDMEventRecord(
                            receivedAt: now,
                            topic: index == 0 ? "mdm.CheckOut" : "mdm.TokenUpdate",
                            dedupeKey: "legacy-\(index)",
                            body: String(decoding: body, as: UTF8.self)
                        )
                    )
                }
            }
            try await api.world.useCases.processMDMEvents(tenant)
            let after = try #require(try await api.world.useCases.manageInventory.devices(api.world.reader).first)
            #expect(after.enrollment.state == .unenrolled, "the old-form CheckOut was processed")
            let events = try await Self.stored(api)
            let old = events.filter { $0.dedupeKey.hasPrefix("legacy-") }
            #expect(old.count == 2 && old.allSatisfy { $0.state != .pending })
            #expect(
                old.contains { $0.state == .ignored && $0.detail.contains("not an enrollment id") },
                "an old-form malformed event is ignored with the reason: \(old.map(\.detail))"
            )
        }
    }
}

extension Data {
    /// The body with its `udid` replaced (JSON-escaped as `JSONSerialization` writes `/`).
    fileprivate func replacingUDID(_ udid: String) -> Data {
        let text = String(decoding: self, as: UTF8.self)
            .replacingOccurrences(of: MDMWebhookEdgeTests.udid, with: udid.replacingOccurrences(of: "/", with: "\\/"))
        return Data(text.utf8)
    }
}

extension MDMWebhookEdgeTests {
    /// The bodies mdmsim sends (NanoMDM's shapes: `Modules/VPPMDMSimulator/MDMSimulator.swift`).
    static func nanoMDMBodies() throws -> [(String, Data)] {
        func event(_ topic: String, _ key: String, _ object: [String: Any]) throws -> Data {
            try body([
                "topic": topic, "event_id": UUID().uuidString.lowercased(), "created_at": "2026-12-07T00:00:00Z",
                key: object,
            ])
        }
        let authenticate: [String: Any] = [
            "MessageType": "Authenticate", "Topic": "com.apple.mgmt.sim", "UDID": udid, "SerialNumber": "C02EDGE00001",
            "Model": "iPad13,4", "ProductName": "iPad13,4", "OSVersion": "17.5", "DeviceName": "Sim C02EDGE00001",
        ]
        let token: [String: Any] = [
            "MessageType": "TokenUpdate", "Topic": "com.apple.mgmt.sim", "UDID": udid,
            "Token": Data(repeating: 1, count: 32), "PushMagic": UUID().uuidString,
        ]
        let apps: [[String: Any]] = (0..<20).map {
            ["Identifier": "com.example.app\($0)", "Name": "App \($0)", "Version": "1.0", "DeviceBasedVPP": true]
        }
        let list: [String: Any] = [
            "Status": "Acknowledged", "UDID": udid, "CommandUUID": UUID().uuidString,
            "InstalledApplicationList": apps,
        ]
        let status: [String: Any] = [
            "MessageType": "DeclarativeManagement", "Endpoint": "status", "UDID": udid,
            "Data": Data(
                #"{"StatusItems":{"app":{"managed":{"list":[{"identifier":"com.example.app1","state":"managed"}]}}}}"#
                    .utf8
            ),
        ]
        return [
            (
                "Authenticate",
                try event("mdm.Authenticate", "checkin_event", ["udid": udid, "raw_payload": plist(authenticate)])
            ),
            (
                "TokenUpdate",
                try event(
                    "mdm.TokenUpdate",
                    "checkin_event",
                    ["udid": udid, "raw_payload": plist(token), "token_update_tally": 1]
                )
            ),
            (
                "Connect (InstalledApplicationList, 20 apps)",
                try event(
                    "mdm.Connect",
                    "acknowledge_event",
                    [
                        "udid": udid, "status": "Acknowledged", "command_uuid": UUID().uuidString,
                        "raw_payload": plist(list),
                    ]
                )
            ),
            (
                "DeclarativeManagement status",
                try event("mdm.DeclarativeManagement", "checkin_event", ["udid": udid, "raw_payload": plist(status)])
            ),
        ]
    }

    @Test("vpp's form of each NanoMDM-shaped event is smaller than the body as received (bytes printed)")
    func storedBytes() throws {
        let format = MicroMDMWebhookFormat()
        for (name, body) in try Self.nanoMDMBodies() {
            let stored = try format.event(from: Array(body)).storedBody.utf8.count
            print("mdm event bytes: \(name): received \(body.count), stored \(stored)")
            #expect(stored < body.count, "\(name)")
        }
    }
}
