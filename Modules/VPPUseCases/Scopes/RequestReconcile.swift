import Foundation
import VPPDomain

/// Queues a reconcile of the tenant's scopes (a background job any server runs within moments). Called by
/// everything that can move the desired set or the pool: scope and group edits, enrollments, Apple's counts
/// (ASSET_COUNT, a sync), licences that came back. Jobs are keyed by the second they are due, so a burst of
/// triggers is one job, and a trigger that arrives while a reconcile runs queues the next one.
public struct RequestReconcile: Sendable {
    let store: any Store
    let clock: any Clock

    public init(store: any Store, clock: any Clock) {
        self.store = store
        self.clock = clock
    }

    /// Queues a reconcile only if the tenant has scopes (or members still leaving one): events that can move
    /// the pool call this, and tenants without desired state pay one indexed read.
    public func ifScoped(_ tenant: TenantID) async throws {
        guard try await store.inTenant(tenant, { tx in try await tx.hasDesiredState() }) else { return }
        try await self(tenant)
    }

    public func callAsFunction(_ tenant: TenantID, after delay: TimeInterval = 0) async throws {
        let at = clock.now().addingTimeInterval(delay)
        try await store.jobs.enqueue(
            JobRequest(
                tenantID: tenant,
                kind: .reconcileScopes,
                key: .due(at),
                runAt: at
            )
        )
    }
}
