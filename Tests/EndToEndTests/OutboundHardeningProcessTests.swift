import Foundation
import Synchronization
import Testing
import VPPDomain
import VPPTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A plain HTTP/1.1 listener on a loopback port, for the MDM server vpp must not (or may) call: it counts
/// connections, records each request line, and answers 200 `{}`.
final class LoopbackListener: Sendable {
    let port: Int
    private let descriptor: Int32
    private let state = Mutex<(connections: Int, lines: [String], stopped: Bool)>((0, [], false))

    var connections: Int { state.withLock { $0.connections } }
    var requestLines: [String] { state.withLock { $0.lines } }

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard fd >= 0, bound == 0, listen(fd, 16) == 0 else { throw ProcessFailure(description: "no listener") }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in serve() }.start()
    }

    private func serve() {
        while !state.withLock({ $0.stopped }) {
            var pollfd = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&pollfd, 1, 50) > 0 else { continue }
            let client = accept(descriptor, nil, nil)
            guard client >= 0 else { continue }
            state.withLock { $0.connections += 1 }
            var received = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !String(decoding: received, as: UTF8.self).contains("\r\n\r\n") {
                let count = recv(client, &buffer, buffer.count, 0)
                if count <= 0 { break }
                received += buffer[0..<count]
            }
            let line = String(decoding: received, as: UTF8.self).components(separatedBy: "\r\n").first ?? ""
            state.withLock { $0.lines.append(line) }
            let answer =
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
            _ = answer.utf8CString.withUnsafeBufferPointer { send(client, $0.baseAddress, $0.count - 1, 0) }
            close(client)
        }
        close(descriptor)
    }

    func stop() { state.withLock { $0.stopped = true } }
}

/// Issue 24 against the real executables: what vppd refuses to call (no VPP_OUTBOUND_ALLOW) and what it refuses
/// to store from the MDM webhook (an enrollment id shaped like a path).
@Suite("End to end: outbound URLs and enrollment ids (issue 24)", .serialized)
struct OutboundHardeningProcessTests {
    static func setUp(_ databaseURL: String, _ extra: [String: String]) throws -> ([String: String], String) {
        let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let env = [
            "VPP_DATABASE_URL": databaseURL, "VPP_ENCRYPTION_KEY": key, "VPP_LOG_LEVEL": "error",
            "VPP_APPLE_BASE_URL": "http://127.0.0.1:9/mdm/v2",
        ].merging(extra) { $1 }
        _ = try run("vppctl", ["migrate"], environment: env)
        _ = try run("vppctl", ["tenant", "create", "acme"], environment: env)
        let apiKey = try run(
            "vppctl",
            ["apikey", "create", "--role", "mdm-admin", "--tenant", "acme"],
            environment: env
        )
        .trimmingCharacters(in: .whitespacesAndNewlines)
        return (env, apiKey)
    }

    @Test(
        """
        vppd without VPP_OUTBOUND_ALLOW: MDM and webhook URLs on loopback, metadata and plain http are 422 (API and \
        CLI); the loopback listener receives nothing
        """
    )
    func refusedURLs() async throws {
        let listener = try LoopbackListener()
        defer { listener.stop() }
        try await TestDatabase.withFreshDatabase { _, databaseURL in
            // Empty counts as unset: the strict default, whatever the test run allows.
            let (env, apiKey) = try Self.setUp(databaseURL, ["VPP_OUTBOUND_ALLOW": ""])
            let server = try ServerProcess("vppd", ["serve", "--port", "0"], environment: env)
            defer { server.stop() }
            let url = try await server.waitForURL()
            for body: [String: Any] in [
                ["kind": "nanomdm", "url": "http://127.0.0.1:\(listener.port)", "apiKey": "k"],
                ["kind": "micromdm", "url": "https://127.0.0.1:\(listener.port)", "apiKey": "k"],
                ["kind": "webhook", "url": "https://169.254.169.254/latest/meta-data/"],
                ["kind": "webhook", "url": "https://localhost:\(listener.port)/hook"],
            ] {
                let (status, answer) = try await TwoServersRaceTests.call(
                    "PUT",
                    url + "/v1/mdm",
                    key: apiKey,
                    json: body
                )
                let message = ((answer as? [String: Any])?["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(status == 422 && message.contains("VPP_OUTBOUND_ALLOW"), "\(body): \(status) \(message)")
            }
            let apiKeyFile = FileManager.default.temporaryDirectory.appendingPathComponent("k-\(UUID().uuidString)")
            try "k".write(to: apiKeyFile, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: apiKeyFile) }
            let cli = try HardeningProcessTests.runStatus(
                "vppctl",
                [
                    "mdm", "connect", "nanomdm", "--url", "http://127.0.0.1:\(listener.port)", "--api-key-file",
                    apiKeyFile.path, "--tenant", "acme",
                ],
                environment: testEnvironment.merging(env) { $1 }
            )
            #expect(cli.status != 0 && cli.errors.contains("VPP_OUTBOUND_ALLOW"), "\(cli.output) \(cli.errors)")
            try await Task.sleep(for: .seconds(1))
            #expect(listener.connections == 0, "the loopback listener was reached: \(listener.requestLines)")
        }
    }

    @Test(
        """
        vppd: a signed Authenticate whose UDID is shaped like a path is refused at the edge (400, nothing recorded, \
        no device) while a good one enrolls; nothing reaches the MDM listener
        """
    )
    func pathShapedEnrollmentID() async throws {
        let listener = try LoopbackListener()
        defer { listener.stop() }
        try await TestDatabase.withFreshDatabase { _, databaseURL in
            let port = try ScenariosAcrossServersTests.freePort()
            let (env, apiKey) = try Self.setUp(databaseURL, ["VPP_PUBLIC_URL": "http://127.0.0.1:\(port)"])
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vpp-e2e-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let hmacKey = "e2e-hmac-\(UUID().uuidString)"
            try hmacKey.write(to: folder.appendingPathComponent("hmac.key"), atomically: true, encoding: .utf8)
            try "k".write(to: folder.appendingPathComponent("api.key"), atomically: true, encoding: .utf8)
            _ = try run(
                "vppctl",
                [
                    "mdm", "connect", "nanomdm", "--url", "http://127.0.0.1:\(listener.port)", "--api-key-file",
                    folder.appendingPathComponent("api.key").path, "--hmac-key-file",
                    folder.appendingPathComponent("hmac.key").path, "--tenant", "acme",
                ],
                environment: env
            )
            let shown = try run("vppctl", ["mdm", "show", "--json", "--tenant", "acme"], environment: env)
            let webhook = try #require(
                (try JSONSerialization.jsonObject(with: Data(shown.utf8)) as? [String: Any])?["webhookURL"] as? String
            )
            let server = try ServerProcess("vppd", ["serve", "--port", "\(port)"], environment: env)
            defer { server.stop() }
            let url = try await server.waitForURL()

            func event(_ topic: String, udid: String, serial: String) throws -> Data {
                let raw = try PropertyListSerialization.data(
                    fromPropertyList: ["SerialNumber": serial, "UDID": udid, "ProductName": "iPad13,4", "Topic": "t"],
                    format: .xml,
                    options: 0
                ).base64EncodedString()
                var checkIn: [String: Any] = ["udid": udid, "raw_payload": raw]
                if topic == "mdm.TokenUpdate" { checkIn["token_update_tally"] = 1 }
                return try JSONSerialization.data(withJSONObject: [
                    "topic": topic, "event_id": UUID().uuidString, "checkin_event": checkIn,
                ])
            }
            let evil = "00008030-53535246/../../../../admin/reset"
            let good = "00008030-001A35E11A53802E"
            for (udid, serial) in [(evil, "C02EVIL00001"), (good, "C02GOOD00001")] {
                for topic in ["mdm.Authenticate", "mdm.TokenUpdate"] {
                    let body = try event(topic, udid: udid, serial: serial)
                    let signature = Data(HMACSHA256.mac(key: Array(hmacKey.utf8), message: Array(body)))
                        .base64EncodedString()
                    // The path-shaped id is refused at the edge (400, nothing recorded); the good one is recorded.
                    let status = try await MDMDeploymentTests.signedPost(webhook, body: body, signature: signature)
                    #expect(status == (udid == evil ? 400 : 200), "\(topic) \(udid)")
                }
            }
            // The good device enrolls through the queue; the refused one never reached it.
            var devices: [[String: Any]] = []
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                devices = try await MDMDeploymentTests.devices(url, apiKey)
                if devices.contains(where: { $0["enrollment"] as? String == "enrolled" }) { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(devices.map { $0["serialNumber"] as? String } == ["C02GOOD00001"], "\(devices)")
            #expect(devices.first?["udid"] as? String == good)
            #expect(!listener.requestLines.contains { $0.contains("admin") }, "\(listener.requestLines)")
        }
    }
}
