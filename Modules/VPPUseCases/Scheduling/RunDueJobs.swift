import Foundation
import Logging
import VPPDomain

/// Claims due jobs from the shared queue (a lease makes sure one replica runs each) and carries them out. A
/// job that fails is tried again after ``RetryBackoff/jobs``; a job claimed while this server is stopping is
/// handed back at once for another replica, not started.
public struct RunDueJobs: Sendable {
    let store: any Store
    let clock: any Clock
    let perform: PerformJob
    let logger: Logger
    /// How long a claim lasts before another replica may assume this one died.
    public let lease: TimeInterval = 600
    /// Jobs claimed per pass, carried out concurrently (each job holds its own leases: one sync per token, one
    /// delivery pass per tenant). Claims are round-robin across tenants, so a batch is spread over tenants.
    public let batch = 16
    public let backoff = RetryBackoff.jobs

    /// Takes only what this use case touches.
    public init(store: any Store, clock: any Clock, perform: PerformJob, logger: Logger) {
        self.store = store
        self.clock = clock
        self.perform = perform
        self.logger = logger
    }

    /// What became of one claimed job.
    public struct Result: Sendable, Hashable {
        public enum Outcome: String, Sendable { case ok, failed, released }
        public let kind: JobKind
        public let outcome: Outcome

        public init(kind: JobKind, outcome: Outcome) {
            self.kind = kind
            self.outcome = outcome
        }
    }

    /// One pass: claims up to ``batch`` due jobs as `owner` and runs them; `stopping` is asked before each.
    public func callAsFunction(owner: String, stopping: @escaping @Sendable () -> Bool) async -> [Result] {
        let claimed: [ClaimedJob]
        do {
            claimed = try await store.jobs.claim(owner: owner, now: clock.now(), lease: lease, limit: batch)
        } catch {
            logger.warning("claiming jobs failed", metadata: ["error": "\(error)"])
            return []
        }
        return await withTaskGroup(of: Result.self) { group in
            for job in claimed {
                group.addTask { await run(job, owner: owner, stopping: stopping) }
            }
            var results: [Result] = []
            for await result in group { results.append(result) }
            return results
        }
    }

    /// Carries out one claimed job: a failure is retried after the back-off; a job met while stopping is
    /// handed back for another replica.
    private func run(_ job: ClaimedJob, owner: String, stopping: @Sendable () -> Bool) async -> Result {
        if stopping() {
            try? await store.jobs.retry(job, at: clock.now(), error: "released at shutdown")
            return Result(kind: job.kind, outcome: .released)
        }
        do {
            try await perform(job, owner: owner)
            try await store.jobs.complete(job)
            return Result(kind: job.kind, outcome: .ok)
        } catch {
            let retryAt = clock.now().addingTimeInterval(backoff.delay(afterFailures: job.attempts))
            try? await store.jobs.retry(job, at: retryAt, error: "\(error)")
            logger.warning(
                "job failed",
                metadata: ["kind": "\(job.kind)", "key": "\(job.key)", "error": "\(error)"]
            )
            return Result(kind: job.kind, outcome: .failed)
        }
    }
}
