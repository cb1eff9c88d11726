import Foundation
import Logging
import VPPDomain

/// One app's reconcile: the plan, and what the desired set left out.
public struct AppReconcile: Sendable {
    public let asset: AssetKey
    public let plan: ReconcilePlan
    /// Licences the pool could grant when planned.
    public let available: Int
    /// Devices and users left out (retired devices, unknown or retired users).
    public let excluded: Int
    /// Whether the plan was carried out (false: a dry run, or another server was reconciling the app).
    public let applied: Bool

    /// Nothing planned or done for `asset` (another server holds it, or its reconcile failed).
    static func notApplied(_ asset: AssetKey) -> AppReconcile {
        AppReconcile(asset: asset, plan: ReconcilePlan(), available: 0, excluded: 0, applied: false)
    }
}

/// Keeps Apple's licences equal to the scopes: for each scoped app, the desired set against the ledger gives a
/// plan (``ReconcilePlan``), carried out through the ledger (``AssignLicences``, ``RevokeLicences``: batched,
/// durable intents, one install each), audited under the scope's name. One server reconciles an app at a time
/// (a named lease); the plan is pure, so a dry run answers exactly what applying would do.
public struct ReconcileScopes: Sendable {
    let store: any Store
    let clock: any Clock
    let tokenCredentials: TokenCredentials
    let poolReader: LicencePoolReader
    let assign: AssignLicences
    let revoke: RevokeLicences
    let logger: Logger
    /// How long a server may reconcile one app before another may take over.
    public let leaseSeconds: TimeInterval = 60

    public init(
        store: any Store,
        clock: any Clock,
        tokenCredentials: TokenCredentials,
        poolReader: LicencePoolReader,
        assign: AssignLicences,
        revoke: RevokeLicences,
        logger: Logger = Logger(label: "vpp.scopes")
    ) {
        self.store = store
        self.clock = clock
        self.tokenCredentials = tokenCredentials
        self.poolReader = poolReader
        self.assign = assign
        self.revoke = revoke
        self.logger = logger
    }

    /// Plans one app with `scopes` (the stored ones, or a proposed change for a dry run). Reads, changes nothing.
    func plan(
        _ tx: any TenantTransaction,
        _ asset: AssetKey,
        scopes: [AppScope],
        ours: HolderIdentity
    ) async throws
        -> (ReconcilePlan, DesiredSet, Int)
    {
        let desired = try await DesiredSet.resolve(tx, scopes: scopes.filter { $0.asset == asset })
        let tracked = Dictionary(
            try await tx.trackedMembers(asset).map { ($0.assignee, $0) },
            uniquingKeysWith: { first, _ in first }
        )
        let holdings = Self.holdings(
            try await tx.assignments(AssignmentQuery(asset: asset, states: AssignmentState.Code.holding))
        )
        let available = try await poolReader.pool(tx, asset, ours: ours).usableCounts.available
        let plan = ReconcilePlan.make(
            desired: desired.members,
            tracked: tracked,
            holdings: holdings,
            available: available,
            now: clock.now()
        )
        return (plan, desired, available)
    }

    /// How each holder holds the app. A licence whose revoke is queued, sent, or asked for until Apple settles it
    /// is on its way out.
    static func holdings(_ rows: [Assignment]) -> [Assignee: Holding] {
        var holdings: [Assignee: Holding] = [:]
        for row in rows {
            switch row.state.stateCode {
            case .revocationQueued, .revoking: holdings[row.assignee] = holdings[row.assignee] ?? .leaving
            default: holdings[row.assignee] = row.revokeRequested ? holdings[row.assignee] ?? .leaving : .licensed
            }
        }
        return holdings
    }

    /// Previews one app as it would be with `scopes` in place of the stored ones: changes nothing anywhere.
    public func preview(_ tenant: TenantID, _ asset: AssetKey, scopes: [AppScope]) async throws -> AppReconcile {
        let ours = try await tokenCredentials.holder(of: tenant)
        return try await store.inTenant(tenant) { tx in
            let (plan, desired, available) = try await self.plan(tx, asset, scopes: scopes, ours: ours)
            return AppReconcile(
                asset: asset,
                plan: plan,
                available: available,
                excluded: desired.excluded,
                applied: false
            )
        }
    }

    /// Reconciles every scoped app of the tenant (`only`: just that app).
    @discardableResult
    public func callAsFunction(_ tenant: TenantID, only: AssetKey? = nil) async throws -> [AppReconcile] {
        let (scopes, tracked) = try await store.inTenant(tenant) { tx in
            (try await tx.scopes(), try await tx.trackedAssets())
        }
        let assets = Set(scopes.map(\.asset) + tracked).filter { only == nil || $0 == only }
        var results: [AppReconcile] = []
        for asset in assets.sorted() {
            do {
                results.append(try await reconcile(tenant, asset, scopes: scopes))
            } catch {
                // One app's failure (its token expired, say) does not stop the others; the sweep tries again.
                logger.warning("reconcile failed", metadata: ["app": "\(asset)", "error": "\(error)"])
                results.append(.notApplied(asset))
            }
        }
        // Alert levels follow the pool after every pass (notices once per crossing; the outbox delivers them).
        if only == nil {
            let waiting = Dictionary(results.map { ($0.asset, $0.plan.waiting.count) }, uniquingKeysWith: +)
            let check = CheckAlerts(
                store: store,
                clock: clock,
                tokenCredentials: tokenCredentials,
                poolReader: poolReader
            )
            if try await !check(tenant, waiting: waiting).isEmpty {
                try await store.jobs.enqueue(
                    JobRequest(tenantID: tenant, kind: .notices, key: .tenant, runAt: clock.now())
                )
            }
        }
        return results
    }

    private func reconcile(_ tenant: TenantID, _ asset: AssetKey, scopes: [AppScope]) async throws -> AppReconcile {
        // Another server reconciling this app sees what we would have seen; the caller's trigger is queued again
        // (see ``RequestReconcile``) in case it read before the change.
        try await withAppLease(tenant, asset) { try await apply(tenant, asset, scopes: scopes) }
            ?? .notApplied(asset)
    }

    /// Runs `body` holding the app's reconcile lease (one server per app); nil when another server holds it.
    private func withAppLease(
        _ tenant: TenantID,
        _ asset: AssetKey,
        _ body: () async throws -> AppReconcile
    ) async throws -> AppReconcile? {
        let owner = "reconcile-\(UUID().uuidString)"
        let lease = "reconcile:\(asset)"
        guard
            try await store.acquireLease(
                tenant: tenant,
                name: lease,
                owner: owner,
                now: clock.now(),
                ttl: leaseSeconds
            )
        else { return nil }
        do {
            let result = try await body()
            try? await store.releaseLease(tenant: tenant, name: lease, owner: owner)
            return result
        } catch {
            try? await store.releaseLease(tenant: tenant, name: lease, owner: owner)
            throw error
        }
    }

    private func apply(_ tenant: TenantID, _ asset: AssetKey, scopes: [AppScope]) async throws -> AppReconcile {
        let ours = try await tokenCredentials.holder(of: tenant)
        let now = clock.now()
        // 1. Plan, remember who entered and left, register devices the scopes name that vpp does not know yet.
        let (plan, desired, available) = try await store.inTenant(tenant) { tx in
            let planned = try await self.plan(tx, asset, scopes: scopes, ours: ours)
            if !planned.1.unknownDevices.isEmpty {
                try await tx.upsertDevices(planned.1.unknownDevices.map { Device(tenantID: tenant, serialNumber: $0) })
            }
            try await tx.saveTracking(asset, upsert: planned.0.track, forget: planned.0.forget)
            try await tx.setWaitingCount(asset, planned.0.waiting.count)
            return planned
        }
        return try await carryOut(tenant, asset, plan, desired: desired, available: available, at: now)
    }

    /// Reconciles after written members of `groups` changed: when nobody waited for the app after its last
    /// reconcile, the plan needs only the changed members (nobody can be ahead of them in the queue), so the work
    /// follows the change, not the group; otherwise (or never reconciled, or a large change) the whole app.
    @discardableResult
    public func membersChanged(
        _ tenant: TenantID,
        groups: [GroupName],
        members: [Assignee]
    ) async throws
        -> [AppReconcile]
    {
        let scopes = try await store.inTenant(tenant) { tx in try await tx.scopes() }
        let assets = Set(scopes.filter { !Set($0.groups).isDisjoint(with: groups) }.map(\.asset))
        var results: [AppReconcile] = []
        for asset in assets.sorted() {
            let result = try await withAppLease(tenant, asset) {
                if members.count <= Self.deltaLimit, let delta = try await applyDelta(tenant, asset, scopes, members) {
                    return delta
                }
                return try await apply(tenant, asset, scopes: scopes)
            }
            if let result {
                results.append(result)
            } else {
                try await RequestReconcile(store: store, clock: clock)(tenant)
            }
        }
        return results
    }

    /// Changes of more members than this reconcile the whole app.
    static let deltaLimit = 1_000

    /// The plan of the changed members alone, carried out; nil when someone waited after the last reconcile.
    private func applyDelta(
        _ tenant: TenantID,
        _ asset: AssetKey,
        _ scopes: [AppScope],
        _ members: [Assignee]
    )
        async throws -> AppReconcile?
    {
        let ours = try await tokenCredentials.holder(of: tenant)
        let now = clock.now()
        let planned = try await store.inTenant(tenant) { tx -> (ReconcilePlan, DesiredSet, Int)? in
            guard try await tx.waitingCount(asset) == 0 else { return nil }
            let desired = try await DesiredSet.resolve(
                tx,
                scopes: scopes.filter { $0.asset == asset },
                only: members
            )
            let tracked = Dictionary(
                try await tx.trackedMembers(asset, members).map { ($0.assignee, $0) },
                uniquingKeysWith: { first, _ in first }
            )
            var rows: [Assignment] = []
            for member in members {
                rows += try await tx.assignments(
                    AssignmentQuery(asset: asset, assignee: member, states: AssignmentState.Code.holding)
                )
            }
            let available = try await poolReader.pool(tx, asset, ours: ours).usableCounts.available
            let plan = ReconcilePlan.make(
                desired: desired.members,
                tracked: tracked,
                holdings: Self.holdings(rows),
                available: available,
                now: now
            )
            if !desired.unknownDevices.isEmpty {
                try await tx.upsertDevices(desired.unknownDevices.map { Device(tenantID: tenant, serialNumber: $0) })
            }
            try await tx.saveTracking(asset, upsert: plan.track, forget: plan.forget)
            try await tx.setWaitingCount(asset, plan.waiting.count)
            return (plan, desired, available)
        }
        guard let (plan, desired, available) = planned else { return nil }
        return try await carryOut(tenant, asset, plan, desired: desired, available: available, at: now)
    }

    /// Carries a plan out through the ledger: licences for the first in the queue, then revokes of those whose
    /// grace is over, each audited as the scope that asked.
    private func carryOut(
        _ tenant: TenantID,
        _ asset: AssetKey,
        _ plan: ReconcilePlan,
        desired: DesiredSet,
        available: Int,
        at now: Date
    ) async throws -> AppReconcile {
        let scopeOf = Dictionary(plan.track.map { ($0.assignee, $0.scope) }, uniquingKeysWith: { first, _ in first })
        let tracked = try await store.inTenant(tenant) { tx in
            try await tx.trackedMembers(asset, plan.add + plan.remove)
        }
        let scopeOfTracked = Dictionary(
            tracked.map { ($0.assignee, $0.scope) },
            uniquingKeysWith: { first, _ in first }
        )
        func byScope(_ members: [Assignee]) -> [(ScopeName?, [Assignee])] {
            let grouped = Dictionary(grouping: members) { scopeOfTracked[$0] ?? scopeOf[$0] }
            return grouped.keys.sorted { ($0?.value ?? "") < ($1?.value ?? "") }.map { ($0, grouped[$0] ?? []) }
        }
        for (scope, members) in byScope(plan.add) {
            do {
                _ = try await assign(Self.caller(tenant, scope), asset: asset, to: members)
            } catch LicenceError.noLicencesLeft, UseCaseError.alreadyLicensed {
                // Someone took licences or licensed a member between the plan and the reservation: the next pass
                // (queued at once) plans again from the ledger; nothing was reserved by this call.
                try await RequestReconcile(store: store, clock: clock)(tenant)
            }
        }
        for (scope, members) in byScope(plan.remove) {
            _ = try await revoke(Self.caller(tenant, scope), asset: asset, from: members)
        }
        if !plan.add.isEmpty || !plan.remove.isEmpty {
            logger.info(
                "scopes reconciled",
                metadata: [
                    "app": "\(asset)", "add": "\(plan.add.count)", "remove": "\(plan.remove.count)",
                    "waiting": "\(plan.waiting.count)", "at": "\(ISO8601Timestamp.format(now))",
                ]
            )
        }
        return AppReconcile(asset: asset, plan: plan, available: available, excluded: desired.excluded, applied: true)
    }

    /// The scope as the actor of its licence moves (audit lines read "scope ipads").
    static func caller(_ tenant: TenantID, _ scope: ScopeName?) -> Caller {
        Caller(
            tenantID: tenant,
            admin: Admin(tenantID: tenant, name: scope.map { "scope \($0.value)" } ?? "scopes", role: .mdmAdmin)
        )
    }
}
