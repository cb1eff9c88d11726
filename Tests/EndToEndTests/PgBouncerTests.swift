import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import Testing
import VPPTestSupport

/// vpp behind Debian's PgBouncer in transaction pooling (the supported pooled deployment): migrations, two
/// replicas assigning licences concurrently through a pool smaller than their connections, Apple's
/// notifications settling them, and no prepared-statement or session-state errors.
@Suite("End to end: behind PgBouncer in transaction pooling", .serialized)
struct PgBouncerTests {
    /// A PgBouncer on a free port in front of the throwaway PostgreSQL (as the `postgres` user when root:
    /// PgBouncer refuses to run as root), in transaction pooling with four server connections per database.
    final class Bouncer: Sendable {
        let folder: URL
        let port: Int

        init(postgresPort: Int) throws {
            guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/pgbouncer") else {
                throw ProcessFailure(description: "/usr/sbin/pgbouncer is missing (Scripts/test.sh installs it)")
            }
            folder = URL(fileURLWithPath: "/tmp/vpp-pgbouncer-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(
                at: folder,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o755]
            )
            port = try ScenariosAcrossServersTests.freePort()
            let ini = """
                [databases]
                * = host=127.0.0.1 port=\(postgresPort)
                [pgbouncer]
                listen_addr = 127.0.0.1
                listen_port = \(port)
                unix_socket_dir =
                auth_type = trust
                auth_file = \(folder.path)/users.txt
                pool_mode = transaction
                default_pool_size = 4
                max_client_conn = 500
                server_login_retry = 1
                ignore_startup_parameters = extra_float_digits,options
                logfile = \(folder.path)/pgbouncer.log
                pidfile = \(folder.path)/pgbouncer.pid

                """
            try ini.write(to: folder.appendingPathComponent("pgbouncer.ini"), atomically: true, encoding: .utf8)
            try "\"postgres\" \"\"\n".write(
                to: folder.appendingPathComponent("users.txt"),
                atomically: true,
                encoding: .utf8
            )
            if getuid() == 0 { try DatabaseOutageTests.Cluster.shell(["chown", "-R", "postgres", folder.path]) }
            let command = ["/usr/sbin/pgbouncer", "-d", folder.path + "/pgbouncer.ini"]
            try DatabaseOutageTests.Cluster.shell(
                getuid() == 0 ? ["runuser", "-u", "postgres", "--"] + command : command
            )
            for _ in 0..<50 where !FileManager.default.fileExists(atPath: folder.path + "/pgbouncer.pid") {
                usleep(100_000)
            }
        }

        func stop() {
            if let text = try? String(contentsOfFile: folder.path + "/pgbouncer.pid", encoding: .utf8),
                let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                // SIGKILL: it inherits the test process's blocked signal mask through posix_spawn, so SIGTERM
                // stays pending; nothing of this throwaway PgBouncer needs a clean shutdown.
                kill(pid, SIGKILL)
                for _ in 0..<50 where kill(pid, 0) == 0 { usleep(100_000) }
            }
            try? FileManager.default.removeItem(at: folder)
        }

        var log: String { (try? String(contentsOfFile: folder.path + "/pgbouncer.log", encoding: .utf8)) ?? "" }

        /// `url` (on the throwaway PostgreSQL) pointed at this PgBouncer instead.
        func through(_ url: String) throws -> String {
            guard var components = URLComponents(string: url) else { throw ProcessFailure(description: url) }
            components.port = port
            return components.string ?? url
        }
    }

    @Test(
        "migrations, two replicas and 40 concurrent assignments through PgBouncer (pool_mode=transaction, 4 server connections): all settle"
    )
    func transactionPooling() async throws {
        try await TestDatabase.withFreshDatabase { _, directURL in
            let postgresPort = try #require(URLComponents(string: directURL)?.port)
            let bouncer = try Bouncer(postgresPort: postgresPort)
            defer { bouncer.stop() }
            let databaseURL = try bouncer.through(directURL)
            let http = TwoServersRaceTests.http
            let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            let simulator = try ServerProcess(
                "vppsim",
                ["serve", "--port", "0", "--rate-limit", "0", "--log-level", "error"],
                environment: [:]
            )
            defer { simulator.stop() }
            let sim = try await simulator.waitForURL()
            let portA = try ScenariosAcrossServersTests.freePort()
            let env = [
                "VPP_DATABASE_URL": databaseURL, "VPP_ENCRYPTION_KEY": key, "VPP_APPLE_BASE_URL": sim + "/mdm/v2",
                "VPP_LOG_LEVEL": "error", "VPP_PUBLIC_URL": "http://127.0.0.1:\(portA)",
            ]
            // Migrations through PgBouncer too: they run in one transaction under a transaction-scoped advisory
            // lock, which transaction pooling keeps on one server connection.
            _ = try run("vppctl", ["migrate"], environment: env)
            _ = try run("vppctl", ["tenant", "create", "acme"], environment: env)
            let apiKey = try run(
                "vppctl",
                ["apikey", "create", "--role", "app-management", "--tenant", "acme"],
                environment: env
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            let serials = (0..<40).map { String(format: "C02PGB%06d", $0) }
            _ = try run("vppctl", ["device", "add", "--tenant", "acme"] + serials, environment: env)
            let a = try ServerProcess("vppd", ["serve", "--port", "\(portA)"], environment: env)
            let b = try ServerProcess("vppd", ["serve", "--port", "0"], environment: env)
            defer {
                a.stop()
                b.stop()
            }
            let servers = [try await a.waitForURL(), try await b.waitForURL()]

            let (_, created) = try await http("POST", sim + "/sim/locations", nil, ["name": "Main Campus"])
            let main = try #require((created as? [String: Any])?["uId"] as? String)
            _ = try await http(
                "POST",
                sim + "/sim/locations/\(main)/assets",
                nil,
                ["adamId": "408709785", "totalCount": 30]
            )
            let upload = try await http(
                "POST",
                servers[0] + "/v1/tokens",
                apiKey,
                ["token": try await ScenariosAcrossServersTests.mint(sim, main)]
            )
            #expect(upload.0 == 201, "\(String(describing: upload.1))")
            let tokens = try #require(
                try await http("GET", servers[1] + "/v1/tokens", apiKey, nil).1 as? [[String: Any]]
            )
            let tokenID = try #require(tokens.first?["id"] as? String)
            #expect(try await http("POST", servers[1] + "/v1/tokens/\(tokenID)/sync", apiKey, nil).0 == 200)

            // 40 devices race for 30 licences, one request each, alternating replicas.
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for (index, serial) in serials.enumerated() {
                    group.addTask {
                        try await http(
                            "POST",
                            servers[index % 2] + "/v1/apps/408709785/licenses",
                            apiKey,
                            ["serialNumbers": [serial]]
                        ).0
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 202 }.count == 30, "exactly the 30 licences: \(statuses.sorted())")
            #expect(statuses.allSatisfy { $0 == 202 || $0 == 409 || $0 == 422 }, "\(statuses.sorted())")
            var states: [String] = []
            for _ in 0..<150 {
                let licences = try await http("GET", servers[1] + "/v1/licenses", apiKey, nil).1 as? [[String: Any]]
                states = (licences ?? []).compactMap { $0["state"] as? String }
                if states.count == 30 && states.allSatisfy({ $0 == "active" }) { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(states.count == 30 && states.allSatisfy { $0 == "active" }, "\(states)")
            #expect(
                !(a.log + b.log).contains("prepared statement"),
                "no prepared-statement errors behind PgBouncer"
            )
        }
    }
}
