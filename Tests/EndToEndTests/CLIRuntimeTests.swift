import Foundation
import Testing
import VPPTestSupport

/// vppctl runs each command inside its runtime's scope (`VPPRuntime.withRunning`): the PostgreSQL client runs
/// as a child task for as long as the command and is shut down before vppctl exits. Against a real
/// PostgreSQL, vppctl exits promptly with 0, with 1 and one line on stderr when the command or the runtime
/// fails, and with 2 on a usage error. A command whose client never stopped would hang here until the timeout.
@Suite("End to end: vppctl's runtime as a scope around each command")
struct CLIRuntimeTests {
    /// Far above a debug vppctl's half second on a loaded machine, far below the pool's minute of retries.
    static let prompt: TimeInterval = 10

    /// Runs vppctl and measures how long it took to exit.
    static func vppctl(
        _ arguments: [String],
        _ environment: [String: String]
    ) throws -> (outcome: HardeningProcessTests.Outcome, seconds: TimeInterval) {
        let started = Date()
        let outcome = try HardeningProcessTests.runStatus("vppctl", arguments, environment: environment, timeout: 90)
        return (outcome, Date().timeIntervalSince(started))
    }

    @Test("against PostgreSQL: 0 on success, 1 and one line on a failed command, 2 on a usage error; each promptly")
    func statuses() async throws {
        try await TestDatabase.withFreshDatabase { _, databaseURL in
            let environment = [
                "VPP_DATABASE_URL": databaseURL, "VPP_ENCRYPTION_KEY": HardeningProcessTests.newKey(),
                "VPP_LOG_LEVEL": "warning",
            ]
            let expectations: [(arguments: [String], status: Int32, stderr: String)] = [
                (["migrate"], 0, ""),
                (["tenant", "create", "acme"], 0, ""),
                (["--tenant", "acme", "token", "list"], 0, ""),
                (["token", "list", "--tenant", "acme", "--json"], 0, ""),
                (["--tenant", "acme", "token", "show", "no-such-token"], 1, "error: No token \"no-such-token\""),
                (["--tenant", "nobody", "token", "list"], 1, "error: No tenant \"nobody\""),
                (["token", "no-such-subcommand"], 2, "Error: Unexpected argument"),
            ]
            for expected in expectations {
                let (outcome, seconds) = try Self.vppctl(expected.arguments, environment)
                let command = "vppctl \(expected.arguments.joined(separator: " "))"
                #expect(outcome.status == expected.status, "\(command): \(outcome.errors)")
                #expect(seconds < Self.prompt, "\(command) took \(seconds) s")
                if expected.stderr.isEmpty {
                    #expect(outcome.errors.isEmpty, "\(command) wrote to stderr: \(outcome.errors)")
                } else {
                    #expect(outcome.errors.hasPrefix(expected.stderr), "\(command): \(outcome.errors)")
                }
                if expected.status == 1 {
                    #expect(outcome.errors.split(separator: "\n").count == 1, "one line: \(outcome.errors)")
                }
            }
        }
    }

    @Test("a database that does not answer: status 1 at once, naming the address without the password")
    func unreachableDatabase() throws {
        let port = try ScenariosAcrossServersTests.freePort()  // nothing listens on it
        let password = "pw-\(UUID().uuidString.prefix(8))"
        let environment = [
            "VPP_DATABASE_URL": "postgres://postgres:\(password)@127.0.0.1:\(port)/vpp",
            "VPP_ENCRYPTION_KEY": HardeningProcessTests.newKey(),
        ]
        for arguments in [["token", "list"], ["--tenant", "acme", "license", "list"], ["migrate"]] {
            let (outcome, seconds) = try Self.vppctl(arguments, environment)
            #expect(outcome.status == 1, "\(outcome.errors)")
            #expect(seconds < Self.prompt, "took \(seconds) s (the pool would retry for about a minute)")
            #expect(outcome.errors.contains("nothing answers at 127.0.0.1:\(port)"), "\(outcome.errors)")
            #expect(!outcome.errors.contains(password) && !outcome.output.contains(password))
        }
    }

    @Test("--print-configuration: flags over the environment, secrets redacted; --help names every setting it reads")
    func configuration() throws {
        let key = HardeningProcessTests.newKey()
        let environment = [
            "VPP_DATABASE_URL": "postgres://vpp:hunter2-secret@db.internal:6543/vpp",
            "VPP_ENCRYPTION_KEY": key, "VPP_TENANT": "from-environment",
            "VPP_SMTP_URL": "smtp://mailer:mail-secret@smtp.internal:587",
        ]
        let (printed, _) = try Self.vppctl(["--tenant", "from-flag", "--print-configuration"], environment)
        #expect(printed.status == 0, "\(printed.errors)")
        let settings = Dictionary(
            printed.output.split(separator: "\n").compactMap { line -> (String, String)? in
                let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                return parts.count == 2 ? (parts[0], parts[1]) : nil
            },
            uniquingKeysWith: { $1 }
        )
        #expect(settings["VPP_TENANT"] == "from-flag")
        #expect(settings["VPP_DATABASE_URL"]?.contains("db.internal:6543") == true)
        #expect(settings["VPP_LOG_LEVEL"] == "warning", "vppctl's own default")
        for secret in [key, "hunter2-secret", "mail-secret"] {
            #expect(!printed.output.contains(secret) && !printed.errors.contains(secret), "a secret printed")
        }

        // Every setting vppctl uses is named in its help (the HTTP server's, the request deadline, the sync
        // interval and the reads of declarative status at KMFDDM are vppd's).
        let (help, _) = try Self.vppctl(["--help"], [:])
        #expect(help.status == 0)
        let serverOnly = settings.keys.filter {
            $0.hasPrefix("VPP_HTTP_") || $0 == "VPP_SYNC_INTERVAL" || $0 == "VPP_REQUEST_DEADLINE_SECONDS"
                || $0 == "VPP_DECLARATION_STATUS_POLL_SECONDS"
        }
        #expect(settings.count > 10, "\(printed.output)")
        for name in Set(settings.keys).subtracting(serverOnly) {
            #expect(help.output.contains(name), "vppctl --help does not name \(name)")
        }
        #expect(help.output.contains("--print-configuration"))
    }

    @Test("no unstructured task in the apps' or the composition root's code but the benchmarks' runtime")
    func noUnstructuredTasks() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        // `start`'s client task, kept for vppbench (a runtime that outlives a call); vppctl and vppd do not use it.
        let allowed: Set = [
            "Modules/VPPComposition/VPPRuntime.swift: " + "if runClient { postgresTask = Task { await client.run() } }"
        ]
        let unstructured = #"(^|[^A-Za-z.])Task(\.detached)?\s*(\(|\{)"#
        // The pattern itself, on what it must and must not catch.
        for sample in ["defer { Task { await stop() } }", "let t = Task.detached {", "_ = Task(priority: .low) {"] {
            #expect(sample.range(of: unstructured, options: .regularExpression) != nil, "\(sample)")
        }
        for sample in ["group.addTask { await client.run() }", "try await Task.sleep(for: .seconds(1))"] {
            #expect(sample.range(of: unstructured, options: .regularExpression) == nil, "\(sample)")
        }
        var found: [String] = []
        for folder in ["Apps", "Modules/VPPComposition"] {
            let files = FileManager.default.enumerator(atPath: root.appendingPathComponent(folder).path)
            while let file = files?.nextObject() as? String {
                guard file.hasSuffix(".swift") else { continue }
                let path = "\(folder)/\(file)"
                let text = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
                for line in text.split(separator: "\n") {
                    let code = line.trimmingCharacters(in: .whitespaces)
                    guard !code.hasPrefix("//"), code.range(of: unstructured, options: .regularExpression) != nil
                    else { continue }
                    if !allowed.contains("\(path): \(code)") { found.append("\(path): \(code)") }
                }
            }
        }
        #expect(found.isEmpty, "unstructured tasks: \(found)")
    }
}
