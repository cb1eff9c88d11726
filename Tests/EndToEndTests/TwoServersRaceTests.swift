import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import Testing
import VPPTestSupport

/// Real processes: vppsim, two vppd replicas on one PostgreSQL database, driven over HTTP.
@Suite("End to end: two vppd servers on one PostgreSQL", .serialized)
struct TwoServersRaceTests {
    /// Positional form, for passing as a function value.
    static let http: @Sendable (String, String, String?, Any?) async throws -> (Int, Any?) = { method, url, key, json in
        try await call(method, url, key: key, json: json)
    }

    static func call(_ method: String, _ url: String, key: String? = nil, json: Any? = nil) async throws -> (Int, Any?)
    {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 16 << 20)
        return (
            Int(response.status.code),
            try? JSONSerialization.jsonObject(with: Data(buffer: body), options: [.fragmentsAllowed])
        )
    }

    @Test(
        "200 concurrent assignments split across both servers against a pool of 50: exactly 50 at Apple and in the database"
    )
    func race() async throws {
        try await TestDatabase.withFreshDatabase { _, databaseURL in
            let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            let simulator = try ServerProcess(
                "vppsim",
                ["serve", "--port", "0", "--rate-limit", "0", "--log-level", "error"],
                environment: [:]
            )
            defer { simulator.stop() }
            let sim = try await simulator.waitForURL()
            let env = [
                "VPP_DATABASE_URL": databaseURL, "VPP_ENCRYPTION_KEY": key, "VPP_APPLE_BASE_URL": sim + "/mdm/v2",
                "VPP_LOG_LEVEL": "error",
            ]

            // Apple: one location with 50 licences of one app.
            let tokenFile = try await SimulatedLocation.create(sim: sim, name: "Main Campus", licences: 50).tokenFile

            // vpp: migrate once, a tenant, an API key, 200 devices.
            _ = try run("vppctl", ["migrate"], environment: env)
            _ = try run("vppctl", ["tenant", "create", "race"], environment: env)
            let apiKey = try run(
                "vppctl",
                ["apikey", "create", "--role", "app-management", "--tenant", "race"],
                environment: env
            )
            .trimmingCharacters(in: .whitespacesAndNewlines)
            let serials = (0..<200).map { String(format: "RACE%07d", $0) }
            for chunk in stride(from: 0, to: 200, by: 100) {
                _ = try run(
                    "vppctl",
                    ["device", "add", "--tenant", "race"] + serials[chunk..<chunk + 100],
                    environment: env
                )
            }

            let first = try ServerProcess("vppd", ["serve", "--port", "0"], environment: env)
            let second = try ServerProcess("vppd", ["serve", "--port", "0"], environment: env)
            defer {
                first.stop()
                second.stop()
            }
            let servers = [try await first.waitForURL(), try await second.waitForURL()]

            let (uploaded, _) = try await Self.call(
                "POST",
                servers[0] + "/v1/tokens",
                key: apiKey,
                json: ["token": tokenFile]
            )
            #expect(uploaded == 201)
            let tokens = try #require(
                try await Self.call("GET", servers[1] + "/v1/tokens", key: apiKey).1 as? [[String: Any]]
            )
            let tokenID = try #require(tokens.first?["id"] as? String)
            #expect(try await Self.call("POST", servers[1] + "/v1/tokens/\(tokenID)/sync", key: apiKey).0 == 200)

            let statuses = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for (index, serial) in serials.enumerated() {
                    group.addTask {
                        let (status, body) = try await Self.call(
                            "POST",
                            servers[index % 2] + "/v1/apps/408709785/licenses",
                            key: apiKey,
                            json: ["serialNumbers": [serial]]
                        )
                        return (status, ((body as? [String: Any])?["error"] as? [String: Any])?["code"] as? String)
                    }
                }
                return try await group.reduce(into: [(Int, String?)]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0.0 == 202 }.count == 50)
            #expect(
                statuses.filter { $0.0 == 409 && $0.1 == "no_licences_left" }.count == 150,
                "others: \(Dictionary(grouping: statuses.filter { $0.0 != 202 }, by: { "\($0.0) \($0.1 ?? "")" }).mapValues(\.count))"
            )

            // Apple processes the events; the simulator then holds exactly 50.
            var atApple = 0
            for _ in 0..<100 {
                let locations = try await Self.call("GET", sim + "/sim/locations").1 as? [String: Any]
                atApple = ((locations?["locations"] as? [[String: Any]])?.first?["assignmentCount"] as? Int) ?? -1
                if atApple == 50 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(atApple == 50)
            let licences = try #require(
                try await Self.call("GET", servers[0] + "/v1/licenses", key: apiKey).1 as? [[String: Any]]
            )
            #expect(
                licences.filter { ["reserved", "pending", "active"].contains($0["state"] as? String ?? "") }.count == 50
            )
            let apps = try #require(
                try await Self.call("GET", servers[1] + "/v1/apps", key: apiKey).1 as? [[String: Any]]
            )
            #expect(apps.first?["available"] as? Int == 0 && apps.first?["assigned"] as? Int == 50)
        }
    }
}
