import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import PostgresNIO
import Testing
import VPPTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The ledger under crashes: vppsim with its rate limit and injected faults, two vppd replicas on one
/// PostgreSQL database, rounds of bulk assignments with a replica killed (SIGKILL) at a random moment and
/// restarted. After the stated recovery time, vpp's licences equal the simulator's assignments exactly,
/// every licensed device has exactly one InstallApplication, and the pool equals Apple's counts.
@Suite("End to end: the ledger survives SIGKILL", .serialized)
struct LedgerChaosTests {
    static let lease = 3  // VPP_INTENT_LEASE_SECONDS: recovery is promised within two of these

    @Test("20 rounds of bulk assignments with a replica killed at random; everything accounted for afterwards")
    func chaos() async throws {
        try await TestDatabase.withFreshDatabase { _, databaseURL in
            var random = SystemRandomNumberGenerator()
            let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            let simulator = try ServerProcess(
                "vppsim",
                ["serve", "--port", "0", "--rate-limit", "15", "--log-level", "error"],
                environment: [:]
            )
            defer { simulator.stop() }
            let sim = try await simulator.waitForURL()
            let env = [
                "VPP_DATABASE_URL": databaseURL, "VPP_ENCRYPTION_KEY": key, "VPP_APPLE_BASE_URL": sim + "/mdm/v2",
                "VPP_LOG_LEVEL": "error", "VPP_INTENT_LEASE_SECONDS": "\(Self.lease)",
            ]
            let call = TwoServersRaceTests.http
            let tokenFile = try await SimulatedLocation.create(sim: sim, name: "Chaos Campus", licences: 60).tokenFile

            _ = try run("vppctl", ["migrate"], environment: env)
            _ = try run("vppctl", ["tenant", "create", "chaos"], environment: env)
            let apiKey = try run(
                "vppctl",
                ["apikey", "create", "--role", "app-management", "--tenant", "chaos"],
                environment: env
            )
            .trimmingCharacters(in: .whitespacesAndNewlines)
            let serials = (0..<100).map { String(format: "CHAOS%06d", $0) }
            _ = try run("vppctl", ["device", "add", "--tenant", "chaos"] + serials, environment: env)

            var servers = [
                try ServerProcess("vppd", ["serve", "--port", "0"], environment: env),
                try ServerProcess("vppd", ["serve", "--port", "0"], environment: env),
            ]
            defer { for server in servers { server.stop() } }
            var urls = [try await servers[0].waitForURL(), try await servers[1].waitForURL()]
            let (uploaded, _) = try await call("POST", urls[0] + "/v1/tokens", apiKey, ["token": tokenFile])
            #expect(uploaded == 201)
            try await Self.sync(env)
            // The upload also queued a sync job; let it finish before the kills. A replica killed inside a sync
            // keeps the token's sync lease until it lapses (60 s: no heartbeat renews it), longer than this test
            // (about the ledger's intents) waits, so it would meet a refused manual sync at the end.
            try await Self.waitForNoSyncJob(databaseURL)

            // Faults at Apple: failed and refused requests on the way.
            for kind in ["serverError", "serviceUnavailable", "connectionReset"] {
                _ = try await call(
                    "POST",
                    sim + "/sim/faults",
                    nil,
                    ["kind": kind, "count": 2, "pathContains": "assets/associate"]
                )
            }

            var next = 0
            var kills = 0
            for round in 0..<20 {
                let size = Int.random(in: 2...5, using: &random)
                let batch = Array(serials[next..<min(next + size, serials.count)])
                next += size
                let target = Int.random(in: 0...1, using: &random)
                let url = urls[target]
                let request = Task { () -> Int? in
                    try? await call("POST", url + "/v1/apps/408709785/licenses", apiKey, ["serialNumbers": batch]).0
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...250, using: &random)))
                if round % 2 == 0 {
                    let victim = Int.random(in: 0...1, using: &random)
                    kill(servers[victim].process.processIdentifier, SIGKILL)
                    servers[victim].process.waitUntilExit()
                    kills += 1
                    servers[victim] = try ServerProcess("vppd", ["serve", "--port", "0"], environment: env)
                    urls[victim] = try await servers[victim].waitForURL()
                }
                _ = await request.value
            }

            // Recovery: intents of killed workers resume within two leases (plus a worker tick); a sync then
            // learns what Apple settled (the scheduled event polls would take Apple's five minutes).
            let recovery = Double(2 * Self.lease + 3)
            let started = ContinuousClock.now
            try await Task.sleep(for: .seconds(recovery))
            try await Self.sync(env)
            print(
                "ledger chaos: \(kills) replicas killed over 20 rounds; recovery wait \(recovery) s "
                    + "(2 x lease of \(Self.lease) s + 3 s of worker ticks), measured \(ContinuousClock.now - started)"
            )

            let apple = try await Self.appleAssignments(sim: sim, token: tokenFile)
            try await TestDatabase.withClient(url: databaseURL) { client in
                let rows = try await client.query(
                    "SELECT serial, state FROM assignments WHERE serial LIKE 'CHAOS%'",
                    logger: TestDatabase.logger
                )
                var states: [String: [String]] = [:]
                for try await (serial, state) in rows.decode((String, String).self) {
                    states[serial, default: []].append(state)
                }
                let active = Set(states.filter { $0.value.contains("active") }.keys)
                let inFlight = states.filter { $0.value.contains { ["reserved", "pending"].contains($0) } }
                #expect(inFlight.isEmpty, "nothing left in flight after recovery: \(inFlight)")
                let onlyVPP = active.subtracting(apple)
                let onlyApple = apple.subtracting(active)
                #expect(active == apple, "vpp's licences equal Apple's: only vpp \(onlyVPP), only Apple \(onlyApple)")
                let commands = try await client.query(
                    "SELECT serial, count(*) FROM device_commands WHERE kind = 'InstallApplication' GROUP BY serial",
                    logger: TestDatabase.logger
                )
                var installs: [String: Int] = [:]
                for try await (serial, count) in commands.decode((String, Int).self) { installs[serial] = count }
                #expect(Set(installs.keys) == active, "every licensed device has an install, no other device has one")
                #expect(
                    installs.values.allSatisfy { $0 == 1 },
                    "exactly one install each: \(installs.filter { $0.value != 1 })"
                )
                let resumed = try await client.query(
                    "SELECT count(*) FROM assignments WHERE send_attempts > 1",
                    logger: TestDatabase.logger
                )
                for try await count in resumed.decode(Int.self) {
                    print(
                        "ledger chaos: \(count) licence(s) resumed by another worker after a kill or a fault; "
                            + "\(active.count) licensed at Apple and in vpp"
                    )
                }
                let pool = try await client.query(
                    "SELECT total, assigned, available FROM token_assets",
                    logger: TestDatabase.logger
                )
                for try await (total, assigned, available) in pool.decode((Int, Int, Int).self) {
                    #expect(
                        total == 60 && assigned == apple.count && available == 60 - apple.count,
                        "pool \(total)/\(assigned)/\(available) vs Apple's 60/\(apple.count)"
                    )
                }
            }
        }
    }

    /// Waits (up to a minute) until no sync job is queued or running.
    static func waitForNoSyncJob(_ databaseURL: String) async throws {
        for _ in 0..<120 {
            let queued = try await TestDatabase.withClient(url: databaseURL) { client in
                try await client.query("SELECT count(*) FROM jobs WHERE kind = 'sync'", logger: TestDatabase.logger)
                    .collect().first?.decode(Int.self) ?? 0
            }
            if queued == 0 { return }
            try await Task.sleep(for: .milliseconds(500))
        }
        Issue.record("the upload's sync job never finished")
    }

    /// A manual sync; a replica's scheduled sync may hold the token's sync lease for a moment.
    static func sync(_ env: [String: String]) async throws {
        for attempt in 1...20 {
            do {
                _ = try run("vppctl", ["token", "sync", "--tenant", "chaos", "Chaos Campus"], environment: env)
                return
            } catch let failure as ProcessFailure where failure.description.contains("already running") && attempt < 20
            {
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// The serial numbers the simulator holds a licence for, read through Apple's own API.
    static func appleAssignments(sim: String, token: String) async throws -> Set<String> {
        var found = Set<String>()
        var page = 0
        while true {
            var request = HTTPClientRequest(url: sim + "/mdm/v2/assignments?pageIndex=\(page)")
            request.headers.add(
                name: "Authorization",
                value: "Bearer \(token.trimmingCharacters(in: .whitespacesAndNewlines))"
            )
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 16 << 20)
            let json = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] ?? [:]
            for item in json["assignments"] as? [[String: Any]] ?? [] {
                if let serial = item["serialNumber"] as? String { found.insert(serial) }
            }
            let total = json["totalPages"] as? Int ?? 1
            page += 1
            if page >= total { return found }
        }
    }
}
