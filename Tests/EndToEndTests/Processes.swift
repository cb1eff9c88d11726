import Foundation
import Synchronization
import VPPTestSupport

/// A built executable of this package (`Scripts/test.sh` builds them before the tests run).
func binary(_ name: String) throws -> URL {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let url = root.appendingPathComponent(".build/debug/\(name)")
    guard FileManager.default.isExecutableFile(atPath: url.path) else {
        throw ProcessFailure(description: "\(url.path) is missing: run `swift build` first (Scripts/test.sh does)")
    }
    return url
}

struct ProcessFailure: Error, CustomStringConvertible { let description: String }

/// A server process whose output is collected, stopped (SIGTERM) when the test ends.
final class ServerProcess: Sendable {
    let process: Process
    private let output = OutputBuffer()

    final class OutputBuffer: Sendable {
        let text = Mutex<String>("")
    }

    init(_ name: String, _ arguments: [String], environment: [String: String]) throws {
        process = Process()
        process.executableURL = try binary(name)
        process.arguments = arguments
        process.environment = testEnvironment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        pipe.fileHandleForReading.readabilityHandler = { [output] handle in
            let data = handle.availableData
            output.text.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
    }

    var log: String { output.text.withLock { $0 } }

    /// Waits for "listening on http://host:PORT" and returns the base URL.
    func waitForURL(timeout: Duration = .seconds(30)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let range = log.range(of: #"listening on (http://[0-9.]+:[0-9]+)"#, options: .regularExpression) {
                return String(log[range].split(separator: " ").last!)
            }
            guard process.isRunning else { throw ProcessFailure(description: "exited early: \(log)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ProcessFailure(description: "did not start in time: \(log)")
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

/// Runs a command to completion and returns its standard output.
func run(_ name: String, _ arguments: [String], environment: [String: String]) throws -> String {
    let process = Process()
    process.executableURL = try binary(name)
    process.arguments = arguments
    process.environment = testEnvironment.merging(environment) { $1 }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw ProcessFailure(
            description:
                "\(name) \(arguments.joined(separator: " ")) failed: \(String(decoding: errors, as: UTF8.self))"
        )
    }
    return String(decoding: data, as: UTF8.self)
}

/// The test process's environment with the outbound allow-list the stand-ins on loopback need (as
/// Scripts/test.sh exports it), so the processes started here reach mdmsim and receivers however the tests run.
let testEnvironment = ProcessInfo.processInfo.environment.merging(["VPP_OUTBOUND_ALLOW": testOutboundAllowList]) {
    existing,
    _ in existing
}
