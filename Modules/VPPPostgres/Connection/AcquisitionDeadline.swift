import Foundation
import Synchronization
import VPPSQLStore

/// Bounds the wait for a pooled connection: while PostgreSQL is unreachable the pool keeps requests waiting
/// (and retries connecting in the background), so without a bound every request hung for as long as the
/// outage lasted. With it, a request that has no connection after `limit` fails at once as "unavailable"
/// (the API answers 503 with Retry-After), and the pool reconnects by itself when the database returns.
/// Only the acquisition is bounded: work that has its connection runs as long as it needs.
public enum AcquisitionDeadline {
    /// How long a request waits for a connection before the database counts as unavailable.
    public static let limit: Duration = .milliseconds(1500)

    final class Flag: Sendable {
        let acquired = Mutex(false)
    }

    enum Outcome<T: Sendable>: Sendable {
        case value(T)
        case timerExpired
    }

    /// Runs `work`, which calls its argument as soon as it holds a connection; throws
    /// `SQLDriverError.other` when that has not happened within `limit`.
    public static func run<T: Sendable>(limit: Duration = limit,
                                        _ work: @Sendable (_ acquired: @escaping @Sendable () -> Void) async throws -> T) async throws -> T {
        let flag = Flag()
        return try await withoutActuallyEscaping(work) { work in
            try await withThrowingTaskGroup(of: Outcome<T>.self) { group in
                group.addTask { .value(try await work { flag.acquired.withLock { $0 = true } }) }
                group.addTask {
                    try await Task.sleep(for: limit)
                    guard flag.acquired.withLock({ $0 }) else {
                        throw SQLDriverError.other("no database connection within \(limit) (the database is unreachable or saturated)")
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
