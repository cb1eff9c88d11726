import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import Testing
import VPPTestSupport

/// Issue 16 against the real executables: a replica with the wrong encryption key refuses to start (and so
/// never answers /readyz), rotation with a previous key, logs without row contents, global CLI options.
@Suite("End to end: hardening of the processes", .serialized)
struct HardeningProcessTests {
    struct Outcome {
        let status: Int32
        let output: String
        let errors: String
    }

    /// Runs a command to completion (at most `timeout`) and returns its exit status and output.
    static func runStatus(
        _ name: String,
        _ arguments: [String],
        environment: [String: String],
        timeout: TimeInterval = 60
    ) throws -> Outcome {
        let process = Process()
        process.executableURL = try binary(name)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate() }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus,
            output: String(decoding: data, as: UTF8.self),
            errors: String(decoding: errors, as: UTF8.self)
        )
    }

    static func newKey() -> String { Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString() }

    @Test(
        "a replica with another well-formed key refuses to start (clear message, non-zero exit); the previous key lets it start; rotate"
    )
    func wrongKeyRefused() async throws {
        try await TestDatabase.withFreshDatabase { _, databaseURL in
            let (keyA, keyB) = (Self.newKey(), Self.newKey())
            let base = [
                "VPP_DATABASE_URL": databaseURL, "VPP_LOG_LEVEL": "error",
                "VPP_APPLE_BASE_URL": "http://127.0.0.1:9/mdm/v2",
            ]
            let envA = base.merging(["VPP_ENCRYPTION_KEY": keyA]) { $1 }
            let envB = base.merging(["VPP_ENCRYPTION_KEY": keyB]) { $1 }
            _ = try run("vppctl", ["migrate"], environment: envA)
            _ = try run("vppctl", ["tenant", "create", "acme"], environment: envA)

            let server = try Self.runStatus("vppd", ["serve", "--port", "0"], environment: envB, timeout: 30)
            #expect(server.status != 0, "vppd must not start with the wrong key")
            #expect((server.output + server.errors).contains("does not open"), "\(server.output) \(server.errors)")
            #expect(
                !(server.output + server.errors).contains(keyB) && !(server.output + server.errors).contains(keyA),
                "no key printed"
            )
            let cli = try Self.runStatus("vppctl", ["token", "list", "--tenant", "acme"], environment: envB)
            #expect(cli.status == 1 && cli.errors.contains("does not open"), "\(cli.errors)")

            // Rotation: the new key with the old one as previous.
            let rotating = envB.merging(["VPP_ENCRYPTION_KEY_PREVIOUS": keyA]) { $1 }
            let during = try ServerProcess("vppd", ["serve", "--port", "0"], environment: rotating)
            let url = try await during.waitForURL()
            let ready = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: url + "/readyz"),
                timeout: .seconds(5)
            )
            #expect(ready.status.code == 200)
            during.stop()
            let rotated = try Self.runStatus("vppctl", ["secrets", "rotate"], environment: rotating)
            #expect(rotated.status == 0 && rotated.output.contains("Re-encrypted"), "\(rotated.errors)")
            let after = try Self.runStatus("vppctl", ["tenant", "list"], environment: envB)
            #expect(after.status == 0, "the new key alone opens everything after rotation: \(after.errors)")
            let old = try Self.runStatus("vppctl", ["tenant", "list"], environment: envA)
            #expect(old.status == 1, "the old key alone no longer does")
        }
    }

    @Test("global options work before the subcommand: vppctl --tenant acme apikey list --json")
    func globalsBeforeSubcommand() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vpp-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let env = ["VPP_DATABASE_URL": "sqlite://\(folder.path)/vpp.sqlite", "VPP_LOG_LEVEL": "error"]
        _ = try run("vppctl", ["tenant", "create", "acme"], environment: env)
        _ = try run(
            "vppctl",
            ["--tenant", "acme", "apikey", "create", "--role", "read-only", "--name", "ci"],
            environment: env
        )
        let listed = try run("vppctl", ["--tenant=acme", "apikey", "list", "--json"], environment: env)
        let keys = try #require(try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [[String: Any]])
        #expect(
            keys.count == 1 && keys.first?["name"] as? String == "ci" && keys.first?["role"] as? String == "read-only"
        )
        let revoked = try run("vppctl", ["--tenant", "acme", "apikey", "revoke", "ci"], environment: env)
        #expect(revoked.contains("Revoked"))
        let wrongTenant = try Self.runStatus("vppctl", ["--tenant", "nobody", "token", "list"], environment: env)
        #expect(wrongTenant.status == 1 && wrongTenant.errors.contains("nobody"))
    }

    @Test("at trace level the log holds no row contents (PostgresNIO capped at info) and metrics hold no personal data")
    func logsWithoutRows() async throws {
        try await TestDatabase.withFreshDatabase { _, databaseURL in
            let env = [
                "VPP_DATABASE_URL": databaseURL, "VPP_ENCRYPTION_KEY": Self.newKey(), "VPP_LOG_LEVEL": "trace",
                "VPP_APPLE_BASE_URL": "http://127.0.0.1:9/mdm/v2",
            ]
            _ = try run("vppctl", ["migrate"], environment: env)
            _ = try run("vppctl", ["tenant", "create", "acme"], environment: env)
            let key = try run(
                "vppctl",
                ["apikey", "create", "--tenant", "acme", "--role", "app-management"],
                environment: env
            )
            .trimmingCharacters(in: .whitespacesAndNewlines)
            let server = try ServerProcess("vppd", ["serve", "--port", "0", "--no-workers"], environment: env)
            defer { server.stop() }
            let url = try await server.waitForURL()
            let serial = "C02LOGTEST99"
            let name = "Zebra Quokka Laptop"
            let added = try await TwoServersRaceTests.call(
                "POST",
                url + "/v1/devices",
                key: key,
                json: ["devices": [["serialNumber": serial, "name": name]]]
            )
            #expect(added.0 == 201)
            let listed = try await TwoServersRaceTests.call("GET", url + "/v1/devices", key: key)
            #expect((listed.1 as? [[String: Any]])?.first?["name"] as? String == name)
            let metrics = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: url + "/metrics"),
                timeout: .seconds(5)
            )
            let metricsText = String(buffer: try await metrics.body.collect(upTo: 1 << 20))
            #expect(!metricsText.contains(serial) && !metricsText.contains("Zebra"))
            try await Task.sleep(for: .milliseconds(300))
            let log = server.log
            let hex = Data("Zebra".utf8).map { String(format: "%02x", $0) }.joined()
            #expect(log.contains("request"), "the request log is there")
            #expect(
                log.range(of: #"tenant=[0-9a-f]{8}-"#, options: .regularExpression) != nil,
                "request lines name the tenant"
            )
            #expect(
                !log.contains(serial) && !log.contains("Zebra") && !log.lowercased().contains(hex),
                "row contents in the log"
            )
            #expect(!log.contains(key), "never the API key")
        }
    }
}
