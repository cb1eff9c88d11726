import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import Testing
import VPPTestSupport

/// vppd reaches its database through a proxy whose port keeps accepting while nothing behind it answers (the
/// way a failover looks behind HAProxy, PgBouncer or a cloud proxy): every request is answered 503 with
/// `Retry-After` within its deadline plus a second, a write stuck in flight never commits, and the service
/// recovers by itself when the proxy forwards again.
@Suite("End to end: request deadline behind a stalled proxy", .serialized)
struct RequestDeadlineTests {
    /// `Scripts/lib/stall-proxy.py` in front of `port`: SIGUSR1 stalls it, SIGUSR2 recovers it.
    final class StallProxy: Sendable {
        let process: Process
        let port: Int

        init(target: Int) throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "python3", root.appendingPathComponent("Scripts/lib/stall-proxy.py").path, "\(target)",
            ]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            var line = Data()
            while !line.contains(UInt8(ascii: "\n")) {
                let chunk = out.fileHandleForReading.availableData
                guard !chunk.isEmpty else { throw ProcessFailure(description: "stall-proxy.py did not start") }
                line.append(chunk)
            }
            let words = String(decoding: line, as: UTF8.self).split(whereSeparator: \.isWhitespace)
            guard words.count >= 2, let port = Int(words[1]) else {
                throw ProcessFailure(description: "stall-proxy.py said \(words)")
            }
            self.port = port
        }

        func stall() { kill(process.processIdentifier, SIGUSR1) }
        func recover() { kill(process.processIdentifier, SIGUSR2) }
        func stop() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    static func send(
        _ method: String,
        _ url: String,
        key: String,
        body: String? = nil
    ) async throws -> (status: Int, retryAfter: String?, body: String, seconds: Double) {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let started = ContinuousClock.now
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        let elapsed = ContinuousClock.now - started
        return (
            Int(response.status.code), response.headers.first(name: "Retry-After"), text,
            Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        )
    }

    @Test(
        "Database behind a proxy that accepts and never answers: 503 + Retry-After within the deadline plus 1 s; the stalled write never commits; recovers"
    )
    func stalledProxy() async throws {
        let cluster = try DatabaseOutageTests.Cluster()
        defer { cluster.destroy() }
        let key = HardeningProcessTests.newKey()
        let direct = [
            "VPP_DATABASE_URL": cluster.url, "VPP_ENCRYPTION_KEY": key, "VPP_LOG_LEVEL": "error",
            "VPP_APPLE_BASE_URL": "http://127.0.0.1:9/mdm/v2",
        ]
        _ = try run("vppctl", ["migrate"], environment: direct)
        _ = try run("vppctl", ["tenant", "create", "acme"], environment: direct)
        let apiKey = try run(
            "vppctl",
            ["apikey", "create", "--tenant", "acme", "--role", "mdm-admin"],
            environment: direct
        ).trimmingCharacters(in: .whitespacesAndNewlines)

        let proxy = try StallProxy(target: cluster.port)
        defer { proxy.stop() }
        let deadline = 3.0
        var env = direct
        env["VPP_DATABASE_URL"] = "postgres://postgres@127.0.0.1:\(proxy.port)/postgres"
        env["VPP_REQUEST_DEADLINE_SECONDS"] = "\(deadline)"
        let server = try ServerProcess("vppd", ["serve", "--port", "0", "--no-workers"], environment: env)
        defer {
            server.process.terminate()
            for _ in 0..<100 where server.process.isRunning { usleep(100_000) }
            if server.process.isRunning { kill(server.process.processIdentifier, SIGKILL) }
            server.process.waitUntilExit()
        }
        let url = try await server.waitForURL()
        let added = try await Self.send(
            "POST",
            url + "/v1/devices",
            key: apiKey,
            body: #"{"devices":[{"serialNumber":"WARMUP000001"}]}"#
        )
        #expect(added.status == 201, "\(added)")

        proxy.stall()
        // The pool's connection is open and stalls mid-transaction: the deadline closes it under the write.
        let stalledWrite = try await Self.send(
            "POST",
            url + "/v1/devices",
            key: apiKey,
            body: #"{"devices":[{"serialNumber":"STALLED00001"}]}"#
        )
        #expect(
            stalledWrite.status == 503 && stalledWrite.retryAfter != nil && stalledWrite.seconds < deadline + 1,
            "stalled write: \(stalledWrite.status) after \(stalledWrite.seconds) s \(stalledWrite.body)"
        )
        #expect(stalledWrite.body.contains("database_unavailable"))
        // New connections are accepted and never answered: no verdict from the probe, so the deadline ends the wait.
        let stalledRead = try await Self.send("GET", url + "/v1/devices", key: apiKey)
        #expect(
            stalledRead.status == 503 && stalledRead.retryAfter != nil && stalledRead.seconds < deadline + 1,
            "stalled read: \(stalledRead.status) after \(stalledRead.seconds) s"
        )
        print(
            "stalled proxy: write answered \(stalledWrite.status) in \(stalledWrite.seconds) s, read in "
                + "\(stalledRead.seconds) s (deadline \(deadline) s)"
        )

        proxy.recover()
        var listing = try await Self.send("GET", url + "/v1/devices", key: apiKey)
        for _ in 0..<40 where listing.status != 200 {
            try await Task.sleep(for: .milliseconds(250))
            listing = try await Self.send("GET", url + "/v1/devices", key: apiKey)
        }
        #expect(listing.status == 200, "recovers without a restart: \(listing.status)")
        #expect(listing.body.contains("WARMUP000001"))
        #expect(!listing.body.contains("STALLED00001"), "a write answered 503 never commits")
    }
}
