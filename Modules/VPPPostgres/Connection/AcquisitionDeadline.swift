import Foundation
import Synchronization
import VPPSQLStore

#if canImport(Glibc)
import Glibc
#endif

/// Bounds the wait for a pooled connection: while PostgreSQL is unreachable the pool keeps requests waiting
/// (and retries connecting in the background), so without a bound every request hung for as long as the
/// outage lasted. With it, a request that has no connection after `limit` fails at once as "unavailable"
/// (the API answers 503 with Retry-After), and the pool reconnects by itself when the database returns.
/// Only the acquisition is bounded: work that has its connection runs as long as it needs.
public enum AcquisitionDeadline {
    /// How long a request waits for a connection before the database is probed (and, unreachable, counts as
    /// unavailable): short, so the 2 s promise holds on a loaded machine; a busy pool only costs a probe.
    public static let limit: Duration = .milliseconds(500)

    final class Flag: Sendable {
        let acquired = Mutex(false)
    }

    enum Outcome<T: Sendable>: Sendable {
        case value(T)
        case timerExpired
    }

    /// Runs `work`, which calls its argument as soon as it holds a connection; throws
    /// `SQLDriverError.other` when that has not happened within `limit` and `reachable` (if given) says the
    /// database cannot be reached. A reachable database whose pool is merely busy keeps the request waiting,
    /// as before (checked again every second), so load never turns into spurious 503s.
    public static func run<T: Sendable>(
        limit: Duration = limit, reachable: (@Sendable () async -> Bool)? = nil,
        _ work: @Sendable (_ acquired: @escaping @Sendable () -> Void) async throws -> T
    ) async throws -> T {
        let flag = Flag()
        return try await withoutActuallyEscaping(work) { work in
            try await withThrowingTaskGroup(of: Outcome<T>.self) { group in
                group.addTask { .value(try await work { flag.acquired.withLock { $0 = true } }) }
                group.addTask {
                    try await Task.sleep(for: limit)
                    while !flag.acquired.withLock({ $0 }) {
                        guard let reachable, await reachable() else {
                            throw SQLDriverError.other(
                                "no database connection within \(limit): the database is unreachable")
                        }
                        try await Task.sleep(for: .seconds(1))
                    }
                    return .timerExpired
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
            timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
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
