import Foundation
import VPPDomain

/// Queues the MDM jobs that are due: command delivery and webhook-event processing for tenants with work
/// waiting (a cheap indexed query, so commands reach the MDM server within seconds), and, on a sweep, the
/// reclaim of unenrolled devices for every tenant with an MDM connection (silent devices and grace periods
/// that ran out while no CheckOut arrived) and the pruning of webhook events past their retention period.
public struct ScheduleMDMWork: Sendable {
    let store: any Store

    /// Takes only what this use case touches.
    public init(store: any Store) { self.store = store }

    /// Queues what is due at `now`; with `sweep`, the reclaim pass too. Returns how many jobs it asked for.
    @discardableResult
    public func callAsFunction(now: Date, sweep: Bool) async throws -> Int {
        let key = ReceiveMDMWebhook.jobKey(at: now)
        var count = 0
        for tenant in try await store.tenantsWithMDMWork(now: now) {
            try await store.jobs.enqueue(JobRequest(tenantID: tenant, kind: .deliverCommands, key: key, runAt: now))
            try await store.jobs.enqueue(JobRequest(tenantID: tenant, kind: .mdmEvents, key: key, runAt: now))
            count += 2
        }
        if sweep {
            for tenant in try await store.tenantsWithMDMConnection() {
                try await store.jobs.enqueue(
                    JobRequest(tenantID: tenant, kind: .reclaimUnenrolled, key: .sweep(now), runAt: now)
                )
                // Event processing ends by pruning events past the retention period: run it on the sweep too, so a
                // tenant whose MDM server fell silent does not keep its old events for ever.
                try await store.jobs.enqueue(
                    JobRequest(tenantID: tenant, kind: .mdmEvents, key: .sweep(now), runAt: now)
                )
                count += 2
            }
        }
        return count
    }
}
