import Foundation
import Synchronization
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

/// Whether work on a second store (a second server) waits for locks a first transaction holds: `holding` runs in
/// a transaction of `tenant` on the first store, and while that transaction is still open `beside` runs on a
/// second store. True when `beside` finished before the first transaction committed (it took none of its locks);
/// false when it waited for the commit. `beside` is given up to three seconds.
func finishesBesideOpenTransaction(
    _ sut: StoreUnderTest,
    tenant: TenantID,
    holding: @escaping @Sendable (any TenantTransaction) async throws -> Void,
    beside: @escaping @Sendable (any Store) async throws -> Void
) async throws -> Bool {
    let other = try await sut.makeSecondStore()
    let finished = FinishTime()
    let (task, committed) = try await sut.store.inTenant(tenant) { tx in
        try await holding(tx)
        let task = Task {
            try await beside(other)
            finished.at.withLock { $0 = .now }
        }
        for _ in 0..<60 where finished.at.withLock({ $0 }) == nil {
            try await Task.sleep(for: .milliseconds(50))
        }
        // Not awaited in here: work that waits for this transaction's locks would never end.
        return (task, ContinuousClock.now)
    }
    try await task.value
    let done = try #require(finished.at.withLock { $0 })
    return done < committed
}

/// When the work beside finished (shared with its task).
final class FinishTime: Sendable {
    let at = Mutex<ContinuousClock.Instant?>(nil)
}
