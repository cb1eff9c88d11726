import Foundation
import Logging
import VPPDomain

/// A named lease held while work runs, kept short by a heartbeat however long the work takes.
///
/// A long lease would outlive a server killed mid-work (another server waits out the whole lease); a short
/// lease without renewal would expire under long work (a second server starts the same work). So the lease
/// lasts `ttl` and the holder renews it every `ttl / 3`: a dead holder's lease frees within `ttl`, a live
/// one's never lapses while its database answers.
struct HeldLease: Sendable {
    let store: any Store
    let clock: any Clock
    let logger: Logger
    let tenant: TenantID
    let name: String
    let owner: String
    let ttl: TimeInterval

    /// Runs `body` while renewing the lease (which the caller has acquired). When a renewal finds the lease
    /// taken by another owner, `body` is cancelled and `lost` is thrown: the work is someone else's now. A
    /// renewal that fails for another reason (the database briefly away) is logged and retried at the next beat.
    func run<T: Sendable>(
        lost: @autoclosure @Sendable () -> any Error,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let lostError = lost()
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                while true {
                    try await Task.sleep(for: .milliseconds(Int(ttl * 1000 / 3)))
                    do {
                        let kept = try await store.renewLease(
                            tenant: tenant,
                            name: name,
                            owner: owner,
                            now: clock.now(),
                            ttl: ttl
                        )
                        if !kept { throw HeartbeatStopped.lost }
                    } catch HeartbeatStopped.lost {
                        throw lostError
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        logger.warning("lease renewal failed", metadata: ["lease": "\(name)", "error": "\(error)"])
                    }
                }
            }
            defer { group.cancelAll() }
            // The heartbeat never finishes by itself: the first result is the body's value or an error.
            guard let first = try await group.next(), let value = first else { throw lostError }
            return value
        }
    }

    private enum HeartbeatStopped: Error { case lost }
}
