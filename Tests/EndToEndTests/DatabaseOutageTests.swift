import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import Testing
import VPPTestSupport

/// A throwaway PostgreSQL cluster of this test's own (never the shared one), stopped and started again
/// under a running vppd: while it is down, /readyz and the API answer 503 within 2 s; when it is back,
/// everything recovers without a restart.
@Suite("End to end: database outage", .serialized)
struct DatabaseOutageTests {
    /// A PostgreSQL cluster in a temporary folder on a free port (as the `postgres` user when run as root).
    final class Cluster: Sendable {
        let folder: URL
        let port: Int
        let bin: String

        init() throws {
            let candidates =
                ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
                .map { "/usr/lib/postgresql/\($0)/bin" } + ["/usr/local/bin", "/usr/bin"]
            guard let bin = candidates.first(where: { FileManager.default.isExecutableFile(atPath: "\($0)/pg_ctl") })
            else {
                throw ProcessFailure(description: "pg_ctl not found (Scripts/test.sh installs PostgreSQL)")
            }
            self.bin = bin
            folder = URL(fileURLWithPath: "/tmp/vpp-outage-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(
                at: folder,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o755]
            )
            port = try ScenariosAcrossServersTests.freePort()
            if getuid() == 0 { try Self.shell(["chown", "postgres", folder.path]) }
            try asPostgres([
                "\(bin)/initdb", "-D", folder.path + "/data", "-U", "postgres", "--auth=trust", "-E", "UTF8",
                "--no-locale",
            ])
            try start()
        }

        var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }

        func start() throws {
            try asPostgres([
                "\(bin)/pg_ctl", "-D", folder.path + "/data", "-l", folder.path + "/log", "-w", "-t", "60",
                "-o", "-h 127.0.0.1 -p \(port) -k \(folder.path) -c fsync=off", "start",
            ])
        }

        func stop() throws {
            try asPostgres(["\(bin)/pg_ctl", "-D", folder.path + "/data", "-m", "fast", "-w", "stop"])
        }

        func destroy() {
            try? asPostgres(["\(bin)/pg_ctl", "-D", folder.path + "/data", "-m", "immediate", "-w", "stop"])
            try? FileManager.default.removeItem(at: folder)
        }

        private func asPostgres(_ arguments: [String]) throws {
            try Self.shell(getuid() == 0 ? ["runuser", "-u", "postgres", "--"] + arguments : arguments)
        }

        /// Runs a command to completion with posix_spawn and waitpid, its output in a file: pg_ctl leaves a
        /// daemon behind that inherits descriptors, and Foundation's Process never saw that pg_ctl had ended.
        static func shell(_ arguments: [String]) throws {
            let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent(
                "vpp-outage-\(UUID().uuidString).out"
            ).path
            defer { try? FileManager.default.removeItem(atPath: outputPath) }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
            let argv = arguments.map { strdup($0) } + [nil]
            defer { for argument in argv { free(argument) } }
            var pid: pid_t = 0
            guard posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ) == 0 else {
                throw ProcessFailure(description: "cannot run \(arguments[0])")
            }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            guard (status & 0x7f) == 0 && (status >> 8) & 0xff == 0 else {
                let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
                throw ProcessFailure(description: "\(arguments.joined(separator: " ")): \(text)")
            }
        }
    }

    static func get(
        _ url: String,
        key: String? = nil
    ) async throws -> (status: Int, retryAfter: String?, body: String, seconds: Double) {
        var request = HTTPClientRequest(url: url)
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        let started = ContinuousClock.now
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
        let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
        let elapsed = ContinuousClock.now - started
        return (
            Int(response.status.code), response.headers.first(name: "Retry-After"), body,
            Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        )
    }

    @Test(
        "PostgreSQL stopped under a running vppd: 503 within 2 s (readiness and API); restarted: recovers without a restart"
    )
    func outageAndRecovery() async throws {
        let cluster = try Cluster()
        defer { cluster.destroy() }
        let env = [
            "VPP_DATABASE_URL": cluster.url, "VPP_ENCRYPTION_KEY": HardeningProcessTests.newKey(),
            "VPP_LOG_LEVEL": "error",
            "VPP_APPLE_BASE_URL": "http://127.0.0.1:9/mdm/v2", "VPP_SYNC_INTERVAL": "5",
        ]
        _ = try run("vppctl", ["migrate"], environment: env)
        _ = try run("vppctl", ["tenant", "create", "acme"], environment: env)
        let key = try run("vppctl", ["apikey", "create", "--tenant", "acme", "--role", "read-only"], environment: env)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let server = try ServerProcess("vppd", ["serve", "--port", "0"], environment: env)
        defer {
            // SIGTERM, then SIGKILL after 10 s: a graceful shutdown that waits on the pool must not hang the suite.
            server.process.terminate()
            for _ in 0..<100 where server.process.isRunning { usleep(100_000) }
            if server.process.isRunning { kill(server.process.processIdentifier, SIGKILL) }
            server.process.waitUntilExit()
        }
        let url = try await server.waitForURL()
        #expect(try await Self.get(url + "/readyz").status == 200)
        #expect(try await Self.get(url + "/v1/tokens", key: key).status == 200)

        try cluster.stop()
        let ready = try await Self.get(url + "/readyz")
        #expect(ready.status == 503 && ready.seconds < 2, "readyz: \(ready.status) after \(ready.seconds) s")
        let api = try await Self.get(url + "/v1/tokens", key: key)
        #expect(
            api.status == 503 && api.seconds < 2 && api.retryAfter != nil,
            "API: \(api.status) after \(api.seconds) s \(api.body)"
        )
        #expect(api.body.contains("database_unavailable") && !api.body.contains("PostgreSQL"))
        #expect(try await Self.get(url + "/healthz").status == 200, "the process stays up and alive")

        try cluster.start()
        var recovered = false
        for _ in 0..<60 where !recovered {
            recovered = try await Self.get(url + "/readyz").status == 200
            if !recovered { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(recovered, "readiness recovers without a restart")
        #expect(try await Self.get(url + "/v1/tokens", key: key).status == 200, "the API recovers without a restart")
        #expect(server.process.isRunning)
    }
}
