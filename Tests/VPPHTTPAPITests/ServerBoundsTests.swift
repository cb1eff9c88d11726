import Foundation
import NIOCore
import Testing
import VPPHTTPAPI
import VPPTestSupport

/// Slow, half-open and oversized clients against the real server on 127.0.0.1, with short bounds so each
/// test takes seconds. Before the bounds, each of these connections stayed open (for minutes, or until the
/// client gave up).
@Suite("Server bounds (raw sockets on 127.0.0.1)")
struct ServerBoundsTests {
    static let short = ServerBounds(
        headerTimeout: .seconds(1),
        bodyTimeout: .seconds(2),
        idleTimeout: .seconds(2),
        maxConnections: 64
    )

    @Test("half a header line is closed after the header timeout")
    func halfHeader() async throws {
        try await withAPI(.sqlite, bounds: Self.short) { api in
            let connection = try RawConnection(port: api.port)
            connection.send("GET /healthz HTTP/1.1\r\nHost: loc")
            let started = ContinuousClock.now
            let (_, closed) = await connection.readUntilClosed(timeout: .seconds(6))
            #expect(closed && ContinuousClock.now - started < .seconds(3), "closed: \(closed)")
        }
    }

    @Test("a body trickled one byte at a time is cut off at the body timeout")
    func trickledBody() async throws {
        try await withAPI(.sqlite, bounds: Self.short) { api in
            let connection = try RawConnection(port: api.port)
            connection.send(
                "POST /v1/devices HTTP/1.1\r\nHost: loc\r\nAuthorization: Bearer \(api.adminKey)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
            )
            let started = ContinuousClock.now
            let trickle = Thread {
                for _ in 0..<40 {
                    guard connection.send("{") else { return }
                    Thread.sleep(forTimeInterval: 0.2)
                }
            }
            trickle.start()
            let (_, closed) = await connection.readUntilClosed(timeout: .seconds(8))
            #expect(closed && ContinuousClock.now - started < .seconds(4), "closed: \(closed)")
        }
    }

    @Test("an idle keep-alive connection is closed after the idle timeout")
    func idleConnection() async throws {
        try await withAPI(.sqlite, bounds: Self.short) { api in
            let connection = try RawConnection(port: api.port)
            connection.send("GET /healthz HTTP/1.1\r\nHost: loc\r\n\r\n")
            let started = ContinuousClock.now
            let (text, closed) = await connection.readUntilClosed(timeout: .seconds(6))
            #expect(text.hasPrefix("HTTP/1.1 200") && closed && ContinuousClock.now - started < .seconds(4))
        }
    }

    @Test(
        "more idle and slow connections than the cap: the oldest are shed, a new request is served within a second"
    )
    func heldConnectionsShed() async throws {
        // Before shedding (issue 24, item 7): connections beyond the cap waited until a held one timed out (20 s here).
        let bounds = ServerBounds(
            headerTimeout: .seconds(20),
            bodyTimeout: .seconds(20),
            idleTimeout: .seconds(20),
            maxConnections: 16
        )
        try await withAPI(.sqlite, bounds: bounds) { api in
            var holders: [RawConnection] = []
            for index in 0..<40 {
                let holder = try RawConnection(port: api.port)
                if index.isMultiple(of: 2) { holder.send("GET /healthz HTTP/1.1\r\nHo") }  // slow; the others idle
                holders.append(holder)
            }
            try await Task.sleep(for: .milliseconds(300))
            let started = ContinuousClock.now
            let probe = try RawConnection(port: api.port)
            probe.send("GET /healthz HTTP/1.1\r\nHost: loc\r\n\r\n")
            let answer = await probe.read(until: "\r\n\r\n", timeout: .seconds(3))
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
            #expect(ContinuousClock.now - started < .seconds(1), "served after \(ContinuousClock.now - started)")
            let (_, oldestClosed) = await holders[0].readUntilClosed(timeout: .seconds(1))
            #expect(oldestClosed, "the oldest held connection is shed first")
            _ = holders
        }
    }

    @Test("after 401 the connection is closed: an unauthenticated 50 MB body is never read")
    func closeAfterUnauthorised() async throws {
        try await withAPI(.sqlite, bounds: Self.short) { api in
            let connection = try RawConnection(port: api.port)
            connection.send(
                "POST /v1/devices HTTP/1.1\r\nHost: loc\r\nContent-Type: application/json\r\nContent-Length: 52428800\r\n\r\n"
            )
            connection.send(Data(repeating: UInt8(ascii: " "), count: 64 * 1024))
            let (text, closed) = await connection.readUntilClosed(timeout: .seconds(5))
            #expect(text.hasPrefix("HTTP/1.1 401") && closed, "\(text.prefix(200)) closed: \(closed)")
        }
    }

    @Test("Apple's webhook checks the bearer before reading the body: 401 arrives while the body is still unsent")
    func webhookBearerFirst() async throws {
        try await withAPI(.sqlite, bounds: Self.short) { api in
            let id = try await HardeningTests.upload(api)
            let connection = try RawConnection(port: api.port)
            connection.send(
                "POST /apple/notifications/\(id) HTTP/1.1\r\nHost: loc\r\nAuthorization: Bearer wrong\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 52428800\r\n\r\n"
            )
            let (text, closed) = await connection.readUntilClosed(timeout: .seconds(3))
            #expect(text.hasPrefix("HTTP/1.1 401") && closed, "\(text.prefix(200)) closed: \(closed)")
        }
    }

    @Test("after 413 the connection is closed")
    func closeAfterTooLarge() async throws {
        try await withAPI(.sqlite, bounds: Self.short) { api in
            let connection = try RawConnection(port: api.port)
            connection.send(
                "POST /v1/devices HTTP/1.1\r\nHost: loc\r\nAuthorization: Bearer \(api.adminKey)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"
            )
            let sender = Thread {
                for _ in 0..<150 { guard connection.send(Data(repeating: 32, count: 64 * 1024)) else { return } }
            }
            sender.start()
            let (text, closed) = await connection.readUntilClosed(timeout: .seconds(5))
            #expect(text.hasPrefix("HTTP/1.1 413") && closed, "\(text.prefix(200)) closed: \(closed)")
        }
    }
}
