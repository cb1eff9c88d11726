import Foundation
import Testing
import VPPTestSupport

/// Desired state with real processes: vppsim, two vppd replicas on one PostgreSQL, driven over HTTP. Apple's
/// holdings are read from vppsim's admin API, never from vpp.
@Suite("End to end: scopes across two vppd servers", .serialized)
struct ScopesAcrossServersTests {
    static let call = TwoServersRaceTests.call

    /// How many licences vppsim holds for the location (Apple's truth).
    static func atApple(_ sim: String) async throws -> Int {
        let locations = try await call("GET", sim + "/sim/locations", nil, nil).1 as? [String: Any]
        return ((locations?["locations"] as? [[String: Any]])?.first?["assignmentCount"] as? Int) ?? -1
    }

    /// Waits up to `seconds` for `condition`; returns whether it held.
    static func eventually(_ seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return try await condition()
    }

    static func scope(_ server: String, _ key: String) async throws -> [String: Any] {
        try #require(try await call("GET", server + "/v1/scopes/keynote", key, nil).1 as? [String: Any])
    }

    @Test("12 devices, 8 licences: dry run, apply, members leave, 2 bought (ASSET_COUNT), a device moves groups")
    func scopeLifecycle() async throws {
        try await TestDatabase.withFreshDatabase { _, databaseURL in
            let simulator = try ServerProcess(
                "vppsim",
                ["serve", "--port", "0", "--rate-limit", "0", "--log-level", "error"],
                environment: [:]
            )
            defer { simulator.stop() }
            let sim = try await simulator.waitForURL()
            let portA = try ScenariosAcrossServersTests.freePort()
            let env = [
                "VPP_DATABASE_URL": databaseURL, "VPP_APPLE_BASE_URL": sim + "/mdm/v2", "VPP_LOG_LEVEL": "error",
                "VPP_ENCRYPTION_KEY": Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString(),
                "VPP_PUBLIC_URL": "http://127.0.0.1:\(portA)", "VPP_OUTBOUND_ALLOW": "127.0.0.1,localhost",
            ]
            let location = try await SimulatedLocation.create(sim: sim, name: "Main Campus", licences: 8)
            _ = try run("vppctl", ["migrate"], environment: env)
            _ = try run("vppctl", ["tenant", "create", "acme"], environment: env)
            let key = try run(
                "vppctl",
                ["apikey", "create", "--role", "app-management", "--tenant", "acme"],
                environment: env
            )
            .trimmingCharacters(in: .whitespacesAndNewlines)
            let serials = (0..<12).map { String(format: "SCOPE%07d", $0) }
            _ = try run("vppctl", ["device", "add", "--tenant", "acme"] + serials, environment: env)
            let first = try ServerProcess("vppd", ["serve", "--port", "\(portA)"], environment: env)
            let second = try ServerProcess("vppd", ["serve", "--port", "0"], environment: env)
            defer {
                first.stop()
                second.stop()
            }
            let a = try await first.waitForURL()
            let b = try await second.waitForURL()
            #expect(try await Self.call("POST", a + "/v1/tokens", key, ["token": location.tokenFile]).0 == 201)
            let tokens = try #require(try await Self.call("GET", b + "/v1/tokens", key, nil).1 as? [[String: Any]])
            let tokenID = try #require(tokens.first?["id"] as? String)
            #expect(try await Self.call("POST", b + "/v1/tokens/\(tokenID)/sync", key, nil).0 == 200)
            #expect(try await Self.call("PUT", a + "/v1/groups/ipads", key, ["serialNumbers": serials]).0 == 200)
            let body: [String: Any] = ["adamId": "408709785", "groups": ["ipads"], "removalGraceSeconds": 0]

            // Dry run on B: the plan, and nothing at Apple or in the database.
            let (dryStatus, dry) = try await Self.call("PUT", b + "/v1/scopes/keynote?dryRun=true", key, body)
            let plan = (dry as? [String: Any])?["plan"] as? [String: Any]
            #expect(dryStatus == 200 && plan?["add"] as? Int == 8 && plan?["wait"] as? Int == 4, "\(dry ?? "")")
            #expect(try await Self.call("GET", a + "/v1/scopes/keynote", key, nil).0 == 404)
            #expect(try await Self.atApple(sim) == 0)

            // Applied on A: Apple holds 8 within 30 s; 4 wait.
            #expect(try await Self.call("PUT", a + "/v1/scopes/keynote", key, body).0 == 202)
            #expect(try await Self.eventually(30) { try await Self.atApple(sim) == 8 })
            var scope = try await Self.scope(b, key)
            #expect(scope["licensed"] as? Int == 8 && scope["waiting"] as? Int == 4, "\(scope)")
            let waitlist = try #require(
                (try await Self.call("GET", b + "/v1/scopes/keynote/waitlist", key, nil).1 as? [String: Any])?[
                    "entries"
                ]
                    as? [[String: Any]]
            )
            #expect(waitlist.compactMap { $0["position"] as? Int } == [1, 2, 3, 4])
            let firstWaiting = Set(waitlist.prefix(2).compactMap { $0["serialNumber"] as? String })

            // Two licensed members leave (grace 0): revoked at Apple, and the first two waiting get licences.
            let licensed = serials.filter { serial in !waitlist.contains { $0["serialNumber"] as? String == serial } }
            #expect(
                try await Self.call(
                    "DELETE",
                    b + "/v1/groups/ipads/members",
                    key,
                    ["serialNumbers": Array(licensed.prefix(2))]
                ).0 == 200
            )
            #expect(
                try await Self.eventually(30) {
                    let now = try await Self.scope(a, key)
                    return now["licensed"] as? Int == 8 && now["waiting"] as? Int == 2
                }
            )
            let licences = try #require(try await Self.call("GET", a + "/v1/licenses", key, nil).1 as? [[String: Any]])
            // Served: reserved, pending at Apple or active (Apple's holdings are checked next).
            let holding = ["reserved", "pending", "active"]
            let active = Set(
                licences.filter { holding.contains($0["state"] as? String ?? "") }.compactMap {
                    $0["serialNumber"] as? String
                }
            )
            #expect(firstWaiting.isSubset(of: active), "the first two in the queue were served")
            #expect(try await Self.eventually(10) { try await Self.atApple(sim) == 8 })

            // Two more bought at Apple: ASSET_COUNT (+2) reaches vpp and the rest are licensed (nobody asks for a sync).
            _ = try await Self.call(
                "POST",
                sim + "/sim/locations/\(location.uid)/assets",
                nil,
                ["adamId": "408709785", "totalCount": 10]
            )
            #expect(try await Self.eventually(30) { try await Self.atApple(sim) == 10 })
            scope = try await Self.scope(a, key)
            #expect(scope["licensed"] as? Int == 10 && scope["waiting"] as? Int == 0, "\(scope)")

            // A device moves from ipads to lab, which also scopes the app: Apple sees no disassociate.
            #expect(try await Self.call("PUT", a + "/v1/groups/lab", key, ["serialNumbers": []]).0 == 200)
            var labBody = body
            labBody["groups"] = ["lab"]
            #expect(try await Self.call("PUT", a + "/v1/scopes/lab-keynote", key, labBody).0 == 202)
            let mover = Array(active).sorted()[0]
            let disassociated = try await Self.disassociateCalls(sim)
            #expect(try await Self.call("POST", b + "/v1/groups/lab/members", key, ["serialNumbers": [mover]]).0 == 200)
            #expect(
                try await Self.call("DELETE", a + "/v1/groups/ipads/members", key, ["serialNumbers": [mover]]).0 == 200
            )
            try await Task.sleep(for: .seconds(3))
            #expect(try await Self.disassociateCalls(sim) == disassociated, "no revoke-then-assign flap at Apple")
            #expect(try await Self.atApple(sim) == 10)
        }
    }

    /// vppsim's count of requests to an endpoint (its admin API).
    static func requests(_ sim: String, _ endpoint: String) async throws -> Int {
        let stats = try await call("GET", sim + "/sim/stats", nil, nil).1 as? [String: Any]
        return ((stats?["requests"] as? [String: Any])?[endpoint] as? Int) ?? 0
    }

    static func disassociateCalls(_ sim: String) async throws -> Int { try await requests(sim, "assets/disassociate") }
}
