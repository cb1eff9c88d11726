import Foundation
import VPPDomain

/// Queues the recurring work that is due across all tenants: token syncs, Apple event polls, notice planning
/// and delivery. Found by indexed queries (a tenant with nothing due costs nothing); enqueueing is idempotent,
/// so every replica may run this and one of them runs each job.
public struct ScheduleDueWork: Sendable {
    let store: any Store
    /// Seconds between scheduled syncs of each token (`VPP_SYNC_INTERVAL`).
    public let syncInterval: TimeInterval
    /// At most this many of each kind per pass.
    public let limit: Int

    /// Takes only what this use case touches.
    public init(store: any Store, syncInterval: TimeInterval, limit: Int = 5000) {
        self.store = store
        self.syncInterval = syncInterval
        self.limit = limit
    }

    /// A sync that failed is tried again after this long: a quarter of an hour, or the interval if shorter.
    public var retryAfter: TimeInterval { min(syncInterval, 900) }

    /// What one pass queued.
    public struct Queued: Sendable, Hashable {
        public var syncs = 0
        public var eventPolls = 0
        public var notices = 0
        /// Jobs waiting in the shared queue after this pass.
        public var queueDepth = 0
    }

    /// Queues what is due at `now`; notice planning only when `planNotices` (it runs less often than the rest).
    public func callAsFunction(now: Date, planNotices: Bool) async throws -> Queued {
        let due = try await store.dueWork(now: now, syncInterval: syncInterval, retryAfter: retryAfter, limit: limit)
        var queued = Queued()
        // One batch for the whole pass: at 10,000 due tokens, a transaction per job cost each replica 5,000
        // commits every pass, and the syncs waited behind them.
        var jobs = due.syncs.map { JobRequest(tenantID: $0.tenantID, kind: .sync, key: .token($0.tokenID), runAt: now) }
        queued.syncs = due.syncs.count
        jobs += due.eventPolls.map { JobRequest(tenantID: $0, kind: .pollEvents, key: .tenant, runAt: now) }
        queued.eventPolls = due.eventPolls.count
        let noticeTenants = Set(due.noticeDeliveries + (planNotices ? due.noticePlans : []))
        jobs += noticeTenants.map { JobRequest(tenantID: $0, kind: .notices, key: .tenant, runAt: now) }
        queued.notices = noticeTenants.count
        // One sweep per tenant per minute, whichever replica asks first.
        jobs += due.scopeSweeps.map { JobRequest(tenantID: $0, kind: .reconcileScopes, key: .sweep(now), runAt: now) }
        try await store.jobs.enqueue(jobs)
        queued.queueDepth = try await store.jobs.depth()
        return queued
    }
}
