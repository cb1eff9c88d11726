import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import Testing
import VPPTestSupport

/// Design §2 scenarios across two vppd processes sharing PostgreSQL, with Apple's notifications flowing
/// from vppsim into vppd's webhook.
@Suite("End to end: scenarios across two servers", .serialized)
struct ScenariosAcrossServersTests {
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func mint(_ sim: String, _ uid: String) async throws -> String {
        var request = HTTPClientRequest(url: sim + "/sim/locations/\(uid)/tokens")
        request.method = .POST
        return String(
            buffer: try await HTTPClient.shared.execute(request, timeout: .seconds(10)).body.collect(upTo: 1 << 16)
        )
    }

    @Test(
        "notifications reach the webhook and settle assignments; take-over, renew refusal and removal plan across servers"
    )
    func scenarios() async throws {
        try await TestDatabase.withFreshDatabase { _, databaseURL in
            let http = TwoServersRaceTests.http
            let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            let simulator = try ServerProcess(
                "vppsim",
                ["serve", "--port", "0", "--rate-limit", "0", "--log-level", "error"],
                environment: [:]
            )
            defer { simulator.stop() }
            let sim = try await simulator.waitForURL()
            let portA = try Self.freePort()
            let base = [
                "VPP_DATABASE_URL": databaseURL, "VPP_ENCRYPTION_KEY": key, "VPP_APPLE_BASE_URL": sim + "/mdm/v2",
                "VPP_LOG_LEVEL": "error",
            ]
            // Server A is the public URL Apple notifies.
            let env = base.merging(["VPP_PUBLIC_URL": "http://127.0.0.1:\(portA)"]) { $1 }
            _ = try run("vppctl", ["migrate"], environment: env)
            _ = try run("vppctl", ["tenant", "create", "acme"], environment: env)
            let apiKey = try run(
                "vppctl",
                ["apikey", "create", "--role", "app-management", "--tenant", "acme"],
                environment: env
            )
            .trimmingCharacters(in: .whitespacesAndNewlines)
            _ = try run(
                "vppctl",
                ["device", "add", "--tenant", "acme", "C02XK1JHJG5J", "C02XK1JHJG5K"],
                environment: env
            )
            let a = try ServerProcess("vppd", ["serve", "--port", "\(portA)"], environment: env)
            let b = try ServerProcess("vppd", ["serve", "--port", "0"], environment: env)
            defer {
                a.stop()
                b.stop()
            }
            let serverA = try await a.waitForURL()
            let serverB = try await b.waitForURL()

            let (_, created) = try await http("POST", sim + "/sim/locations", nil, ["name": "Main Campus"])
            let main = try #require((created as? [String: Any])?["uId"] as? String)
            _ = try await http(
                "POST",
                sim + "/sim/locations/\(main)/assets",
                nil,
                ["adamId": "408709785", "totalCount": 5]
            )
            let upload = try await http(
                "POST",
                serverA + "/v1/tokens",
                apiKey,
                ["token": try await Self.mint(sim, main)]
            )
            #expect(upload.0 == 201, "\(String(describing: upload.1))")
            let tokens = try #require(try await http("GET", serverB + "/v1/tokens", apiKey, nil).1 as? [[String: Any]])
            let mainID = try #require(tokens.first?["id"] as? String)
            #expect(try await http("POST", serverB + "/v1/tokens/\(mainID)/sync", apiKey, nil).0 == 200)

            // Assign through B; Apple's ASSET_MANAGEMENT notification reaches A's webhook, which settles the event at once.
            #expect(
                try await http(
                    "POST",
                    serverB + "/v1/apps/408709785/licenses",
                    apiKey,
                    ["serialNumbers": ["C02XK1JHJG5J"]]
                ).0 == 202
            )
            var state = ""
            for _ in 0..<100 {
                let licences = try await http("GET", serverB + "/v1/licenses", apiKey, nil).1 as? [[String: Any]]
                state = licences?.first?["state"] as? String ?? ""
                if state == "active" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(state == "active", "settled by the notification, long before the 5-minute poll")

            // A token Apple Configurator holds: stored as in use elsewhere through A, taken over through B.
            let (_, labCreated) = try await http("POST", sim + "/sim/locations", nil, ["name": "Lab"])
            let lab = try #require((labCreated as? [String: Any])?["uId"] as? String)
            _ = try await http("PUT", sim + "/sim/locations/\(lab)/mdm-info", nil, ["appleConfigurator": true])
            let labUpload = try await http(
                "POST",
                serverA + "/v1/tokens",
                apiKey,
                ["token": try await Self.mint(sim, lab)]
            )
            let labObject = try #require(labUpload.1 as? [String: Any])
            #expect(labObject["status"] as? String == "in_use_elsewhere")
            let labID = try #require((labObject["token"] as? [String: Any])?["id"] as? String)
            let takeOver = try await http("POST", serverB + "/v1/tokens/\(labID)/take-over", apiKey, ["confirm": true])
            #expect((takeOver.1 as? [String: Any])?["applied"] as? Bool == true)

            // Renew with the wrong location's file is refused naming both; the removal plan is shown without changing anything.
            let wrong = try await http(
                "POST",
                serverA + "/v1/tokens/\(mainID)/renew",
                apiKey,
                ["token": try await Self.mint(sim, lab)]
            )
            #expect(wrong.0 == 422)
            let plan = try await http("DELETE", serverB + "/v1/tokens/\(mainID)?dryRun=true", apiKey, nil)
            #expect(
                (plan.1 as? [String: Any])?["licencesToRevoke"] as? Int == 1
                    && (plan.1 as? [String: Any])?["applied"] as? Bool == false
            )
            let remove = try await http("DELETE", serverA + "/v1/tokens/\(mainID)?confirm=true", apiKey, nil)
            #expect(remove.0 == 200)
            let remaining = try #require(
                try await http("GET", serverB + "/v1/tokens", apiKey, nil).1 as? [[String: Any]]
            )
            #expect(remaining.map { $0["location"] as? String } == ["Lab"])
        }
    }
}
