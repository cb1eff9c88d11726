import Foundation
import Synchronization
import VPPSQLStore

#if canImport(Glibc)
import Glibc
#endif

/// Bounds a transaction's wait for a pooled connection and, under a deadline, the transaction itself.
///
/// While PostgreSQL is unreachable the pool keeps requests waiting (and retries connecting in the background),
/// so without a bound every request hung for as long as the outage lasted. Behind HAProxy, PgBouncer or a cloud
/// proxy the database's port always accepts, so "the port accepts" is no sign of health: after `limit` the
/// database is probed with a real connection attempt (`reachable`, a PostgreSQL handshake and `SELECT 1`), and a
/// failed attempt counts as unavailability. A busy pool, or an attempt that neither succeeds nor fails, keeps the
/// request waiting up to an absolute ceiling: the work's deadline (``VPPUseCases/WorkDeadline``), or `ceiling`
/// for background work without one.
///
/// Under a deadline the transaction is bounded too: `expire` runs `grace` after it (the driver closes the
/// connection, which fails whatever query is stuck on a server that stopped answering) and the caller gets
/// ``SQLDriverError/other(_:)`` at once, so the API can answer 503 within the deadline plus a second.
public enum AcquisitionDeadline {
    /// How long a request waits for a connection before the database is probed (and, unreachable, counts as
    /// unavailable): short, so the 2 s promise holds on a loaded machine; a busy pool only costs a probe.
    public static let limit: Duration = .milliseconds(500)
    /// The longest any work without a deadline of its own waits for a connection, however healthy the probe.
    public static let ceiling: Duration = .seconds(30)
    /// How long past its deadline a transaction may still run before its connection is closed under it.
    public static let grace: Duration = .milliseconds(400)

    final class Flag: Sendable {
        let acquired = Mutex(false)
    }

    enum Outcome<T: Sendable>: Sendable {
        case value(T)
        case timerExpired
    }

    /// Runs `work`, which calls its argument as soon as it holds a connection; throws
    /// `SQLDriverError.other` when that has not happened within `limit` and `reachable` (if given) says the
    /// database cannot be reached, when the wait reaches `deadline` (or `ceiling` without one), or when the
    /// work is still running `grace` after `deadline` (after calling `expire`).
    public static func run<T: Sendable>(
        limit: Duration = limit,
        deadline: ContinuousClock.Instant? = nil,
        ceiling: Duration = ceiling,
        reachable: (@Sendable () async -> Bool)? = nil,
        expire: @escaping @Sendable () -> Void = {},
        _ work: @Sendable (_ acquired: @escaping @Sendable () -> Void) async throws -> T
    ) async throws -> T {
        let flag = Flag()
        let waitUntil = deadline ?? (ContinuousClock.now + ceiling)
        return try await withoutActuallyEscaping(work) { work in
            try await withThrowingTaskGroup(of: Outcome<T>.self) { group in
                group.addTask { .value(try await work { flag.acquired.withLock { $0 = true } }) }
                group.addTask {
                    try await Task.sleep(until: min(ContinuousClock.now + limit, waitUntil), clock: .continuous)
                    while !flag.acquired.withLock({ $0 }) {
                        if ContinuousClock.now >= waitUntil {
                            expire()
                            throw SQLDriverError.other(
                                deadline == nil
                                    ? "no database connection within \(ceiling)"
                                    : "no database connection before the request's deadline"
                            )
                        }
                        guard let reachable, await reachable() else {
                            expire()
                            throw SQLDriverError.other(
                                "no database connection within \(limit): the database does not answer"
                            )
                        }
                        try await Task.sleep(
                            until: min(ContinuousClock.now + .seconds(1), waitUntil),
                            clock: .continuous
                        )
                    }
                    guard let deadline else { return .timerExpired }
                    try await Task.sleep(until: deadline + grace, clock: .continuous)
                    expire()
                    throw SQLDriverError.other("the transaction outlived the request's deadline")
                }
                while let outcome = try await group.next() {
                    if case .value(let value) = outcome {
                        group.cancelAll()
                        return value
                    }
                }
                throw CancellationError()
            }
        }
    }
}

/// Whether a fresh connection attempt to PostgreSQL fails: tells a database that cannot serve (down, starting up,
/// a proxy in front of no server) from a busy pool, also when a proxy accepts the TCP connection. An attempt
/// that has not ended within its timeout gives no verdict (true): the caller's ceiling bounds that case.
/// One answer serves every waiting request for a second, so a saturated pool does not multiply probes.
public struct DatabaseProbe: Sendable {
    let attempt: @Sendable () async -> Bool
    private let recent = Recent()

    final class Recent: Sendable {
        let answer = Mutex<(at: ContinuousClock.Instant, reachable: Bool)?>(nil)
    }

    /// A probe running `attempt` (true: the database answered); the caller bounds its time.
    public init(attempt: @escaping @Sendable () async -> Bool) {
        self.attempt = attempt
    }

    public func check() async -> Bool {
        let now = ContinuousClock.now
        if let last = recent.answer.withLock({ $0 }), now - last.at < .seconds(1) { return last.reachable }
        let reachable = await attempt()
        recent.answer.withLock { $0 = (ContinuousClock.now, reachable) }
        return reachable
    }
}

/// Whether a TCP connection to the database's address can be opened within a deadline: tells an
/// unreachable database (refused, unroutable, down) from a busy one.
/// One answer serves every waiting request for a second, so a saturated pool does not multiply probes.
public struct TCPReachability: Sendable {
    public let host: String
    public let port: Int
    public let timeout: Duration
    private let recent = Recent()

    final class Recent: Sendable {
        let answer = Mutex<(at: ContinuousClock.Instant, reachable: Bool)?>(nil)
    }

    public init(host: String, port: Int, timeout: Duration = .milliseconds(400)) {
        self.host = host
        self.port = port
        self.timeout = timeout
    }

    public func check() async -> Bool {
        let now = ContinuousClock.now
        if let last = recent.answer.withLock({ $0 }), now - last.at < .seconds(1) { return last.reachable }
        let milliseconds = Int32(
            timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        )
        let (host, port) = (host, port)
        let reachable = await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: Self.connect(host, port, milliseconds)) }
        }
        recent.answer.withLock { $0 = (ContinuousClock.now, reachable) }
        return reachable
    }

    static func connect(_ host: String, _ port: Int, _ milliseconds: Int32) -> Bool {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return false }
        defer { freeaddrinfo(list) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            defer { entry = address.pointee.ai_next }
            let fd = socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            if Glibc.connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 { return true }
            guard errno == EINPROGRESS else { continue }
            var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            guard poll(&poller, 1, milliseconds) == 1 else { continue }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            if getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0 { return true }
        }
        return false
    }
}
