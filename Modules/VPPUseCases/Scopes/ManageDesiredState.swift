import Foundation
import VPPDomain

/// Groups and scopes: what admins and MDM servers say about who *should* hold which app. Every change is
/// audited and followed by a reconcile (queued for the background workers, or carried out at once where there
/// are none, as in the CLI); a change can be previewed first (`dryRun`), changing nothing anywhere.
public struct ManageDesiredState: Sendable {
    let store: any Store
    let clock: any Clock
    let auditTrail: AuditTrail
    let reconcile: ReconcileScopes
    let request: RequestReconcile
    /// Reconcile in the caller's task after a change (no background workers: the CLI).
    public let reconcilesInline: Bool

    public init(
        store: any Store,
        clock: any Clock,
        auditTrail: AuditTrail,
        reconcile: ReconcileScopes,
        request: RequestReconcile,
        reconcilesInline: Bool = false
    ) {
        self.store = store
        self.clock = clock
        self.auditTrail = auditTrail
        self.reconcile = reconcile
        self.request = request
        self.reconcilesInline = reconcilesInline
    }

    private func changed(_ tenant: TenantID) async throws {
        if reconcilesInline {
            try await reconcile(tenant)
        } else {
            try await request(tenant)
        }
    }

    // MARK: Groups

    /// Creates or replaces a group: its written members become exactly `members`, or it follows enrollments.
    public func putGroup(
        _ caller: Caller,
        _ name: GroupName,
        members: [Assignee],
        dynamic: DynamicMembership?
    ) async throws -> GroupRecord {
        try caller.require(.manageLicences)
        try members.requireDistinct()
        let now = clock.now()
        let record = try await store.inTenant(caller.tenantID) { tx in
            try await tx.upsertGroup(DeviceGroup(name: name, dynamic: dynamic))
            if dynamic == nil { try await tx.replaceGroupMembers(name, members, now: now) }
            try await auditTrail.record(
                tx,
                caller,
                AuditEntry(
                    .groupPut,
                    .group(name),
                    .ok,
                    dynamic.map { _ in "dynamic" } ?? "\(members.count) member(s)"
                )
            )
            return try await tx.group(name)
        }
        try await changed(caller.tenantID)
        return record!
    }

    /// Adds (`adding`) or removes members of a group that has written members.
    public func editMembers(
        _ caller: Caller,
        _ name: GroupName,
        adding: Bool,
        _ members: [Assignee]
    ) async throws
        -> GroupRecord
    {
        try caller.require(.manageLicences)
        guard !members.isEmpty else { throw UseCaseError.noAssignees }
        let now = clock.now()
        let record = try await store.inTenant(caller.tenantID) { tx in
            guard let group = try await tx.group(name) else { throw UseCaseError.unknownGroup(name.value) }
            guard group.group.dynamic == nil else { throw UseCaseError.dynamicGroup(name.value) }
            if adding {
                try await tx.addGroupMembers(name, members, now: now)
            } else {
                try await tx.removeGroupMembers(name, members)
            }
            try await auditTrail.record(
                tx,
                caller,
                AuditEntry(adding ? .groupAdd : .groupRemove, .group(name), .ok, "\(members.count) member(s)")
            )
            return try await tx.group(name)
        }
        // Planned from the changed members (when nobody waits), so the cost follows the change, not the group.
        try await reconcile.membersChanged(caller.tenantID, groups: [name], members: members)
        return record!
    }

    public func groups(_ caller: Caller) async throws -> [GroupRecord] {
        try caller.require(.read)
        return try await store.inTenant(caller.tenantID) { tx in try await tx.groups() }
    }

    /// A group and one page of its members (written members, or the enrolled devices a dynamic group matches).
    public func group(
        _ caller: Caller,
        _ name: GroupName,
        after: String?,
        limit: Int
    ) async throws
        -> (GroupRecord, [Assignee])
    {
        try caller.require(.read)
        return try await store.inTenant(caller.tenantID) { tx in
            guard let record = try await tx.group(name) else { throw UseCaseError.unknownGroup(name.value) }
            if let dynamic = record.group.dynamic {
                let members = try await DesiredSet.enrolledDevices(tx).filter(dynamic.includes)
                    .map { Assignee.device($0.serialNumber) }.filter { after == nil || $0.sortKey > after! }
                return (record, Array(members.prefix(limit)))
            }
            return (record, try await tx.groupMemberPage(name, after: after, limit: limit))
        }
    }

    /// Deletes a group no scope names (a scope's members must not vanish as a side effect).
    public func deleteGroup(_ caller: Caller, _ name: GroupName) async throws {
        try caller.require(.manageLicences)
        try await store.inTenant(caller.tenantID) { (tx) async throws in
            let users = try await tx.scopes().filter { $0.groups.contains(name) }.map(\.name.value)
            guard users.isEmpty else { throw UseCaseError.groupInUse(name.value, scopes: users) }
            guard try await tx.deleteGroup(name) else { throw UseCaseError.unknownGroup(name.value) }
            try await auditTrail.record(tx, caller, AuditEntry(.groupDelete, .group(name)))
        }
    }

    // MARK: Scopes

    /// Creates or replaces a scope; `dryRun` answers the plan with the change in place and stores nothing.
    public func putScope(_ caller: Caller, _ scope: AppScope, dryRun: Bool) async throws -> ScopeChange {
        try caller.require(.manageLicences)
        let current = try await store.inTenant(caller.tenantID) { tx in
            guard let app = try await tx.app(scope.asset) else { throw StoreError.unknownApp(scope.asset) }
            // A scope that names devices (groups may hold them) needs an app that allows device licences.
            if !app.asset.isDeviceAssignable, !(scope.groups.isEmpty && scope.serialNumbers.isEmpty) {
                throw UseCaseError.notDeviceAssignable(scope.asset.description)
            }
            let known = Set(try await tx.groups().map(\.group.name))
            let missing = scope.groups.filter { !known.contains($0) }.map(\.value)
            guard missing.isEmpty else { throw UseCaseError.unknownGroup(missing.joined(separator: ", ")) }
            return try await tx.scopes()
        }
        var proposed = current.filter { $0.name != scope.name }
        proposed.append(scope)
        let old = current.first { $0.name == scope.name }
        // The plan of the app the scope names (and of the app it named before, if it moved).
        let preview = try await reconcile.preview(caller.tenantID, scope.asset, scopes: proposed)
        guard !dryRun else { return ScopeChange(scope: scope, plan: PlanSummary(preview), stored: false) }
        try await store.inTenant(caller.tenantID) { (tx) async throws in
            let assets = [scope.asset] + (old.map { [$0.asset] } ?? [])
            try await Self.republishingChangedTerms(tx, of: assets, now: clock.now()) {
                try await tx.upsertScope(scope, now: clock.now())
            }
            try await auditTrail.record(
                tx,
                caller,
                AuditEntry(
                    old == nil ? .scopeCreate : .scopeUpdate,
                    .scope(scope.name),
                    .ok,
                    "app \(scope.asset), \(scope.groups.count) group(s), priority \(scope.priority)"
                )
            )
        }
        try await changed(caller.tenantID)
        return ScopeChange(scope: scope, plan: PlanSummary(preview), stored: true)
    }

    /// Deletes a scope: its members follow its removal policy (grace, then revoke). `dryRun` previews.
    public func deleteScope(_ caller: Caller, _ name: ScopeName, dryRun: Bool) async throws -> ScopeChange {
        try caller.require(.manageLicences)
        let (scopes, scope) = try await storedScopes(caller.tenantID, naming: name)
        let preview = try await reconcile.preview(
            caller.tenantID,
            scope.asset,
            scopes: scopes.filter { $0.name != name }
        )
        guard !dryRun else { return ScopeChange(scope: scope, plan: PlanSummary(preview), stored: false) }
        try await store.inTenant(caller.tenantID) { (tx) async throws in
            try await Self.republishingChangedTerms(tx, of: [scope.asset], now: clock.now()) {
                _ = try await tx.deleteScope(name)
            }
            try await auditTrail.record(tx, caller, AuditEntry(.scopeDelete, .scope(name), .ok, "app \(scope.asset)"))
        }
        try await changed(caller.tenantID)
        return ScopeChange(scope: scope, plan: PlanSummary(preview), stored: true)
    }

    /// Runs a scope change; an app whose declaration terms it changed (`Install`, `Version`, `UpdateBehavior`) has
    /// its published declarations go out again, so devices that joined evaluate the new content.
    static func republishingChangedTerms(
        _ tx: any TenantTransaction,
        of assets: [AssetKey],
        now: Date,
        _ change: () async throws -> Void
    ) async throws {
        var before: [AssetKey: DeclarationTerms] = [:]
        for asset in Set(assets) {
            before[asset] = DeclarationTerms.forApp(asset, scopes: try await tx.scopes(of: asset))
        }
        try await change()
        for (asset, terms) in before {
            let after = DeclarationTerms.forApp(asset, scopes: try await tx.scopes(of: asset))
            if after != terms { try await tx.requestTermsRepublish(asset: asset, now: now) }
        }
    }

    public func scopes(_ caller: Caller) async throws -> [ScopeStatus] {
        try caller.require(.read)
        let scopes = try await store.inTenant(caller.tenantID) { tx in try await tx.scopes() }
        var result: [ScopeStatus] = []
        var previews: [AssetKey: AppReconcile] = [:]
        for scope in scopes {
            if previews[scope.asset] == nil {
                previews[scope.asset] = try await reconcile.preview(caller.tenantID, scope.asset, scopes: scopes)
            }
            result.append(try await status(caller.tenantID, scope, previews[scope.asset]!))
        }
        return result
    }

    public func scope(_ caller: Caller, _ name: ScopeName) async throws -> ScopeStatus {
        try caller.require(.read)
        let (scopes, scope) = try await storedScopes(caller.tenantID, naming: name)
        let preview = try await reconcile.preview(caller.tenantID, scope.asset, scopes: scopes)
        return try await status(caller.tenantID, scope, preview)
    }

    private func status(_ tenant: TenantID, _ scope: AppScope, _ preview: AppReconcile) async throws -> ScopeStatus {
        let (members, tracked) = try await store.inTenant(tenant) { tx in
            (
                Set(try await DesiredSet.resolve(tx, scopes: [scope]).members.keys),
                try await tx.trackedMembers(scope.asset)
            )
        }
        let licensed = Set(preview.plan.keep)
        let waiting = Set(preview.plan.waiting + preview.plan.add)
        let leaving = Set(preview.plan.pendingRemoval + preview.plan.remove)
        return ScopeStatus(
            scope: scope,
            desired: members.count,
            licensed: members.filter(licensed.contains).count,
            waiting: members.filter(waiting.contains).count,
            pendingRemoval: tracked.filter { $0.scope == scope.name && leaving.contains($0.assignee) }.count,
            plan: PlanSummary(preview)
        )
    }

    /// The scope's waiting members with their places in the app's queue, those after position `after`.
    public func waitlist(_ caller: Caller, _ name: ScopeName, after: Int, limit: Int) async throws -> [WaitlistEntry] {
        try caller.require(.read)
        let (scopes, scope) = try await storedScopes(caller.tenantID, naming: name)
        let preview = try await reconcile.preview(caller.tenantID, scope.asset, scopes: scopes)
        let (members, tracked) = try await store.inTenant(caller.tenantID) { tx in
            (
                try await DesiredSet.resolve(tx, scopes: [scope]).members,
                Dictionary(
                    try await tx.trackedMembers(scope.asset).map { ($0.assignee, $0) },
                    uniquingKeysWith: { first, _ in first }
                )
            )
        }
        // The queue is the app's: members of other scopes of the app may come first.
        let queue = preview.plan.add + preview.plan.waiting
        var entries: [WaitlistEntry] = []
        for (index, assignee) in queue.enumerated() where index + 1 > after && members[assignee] != nil {
            entries.append(
                WaitlistEntry(
                    position: index + 1,
                    assignee: assignee,
                    scope: tracked[assignee]?.scope ?? scope.name,
                    priority: tracked[assignee]?.priority ?? scope.priority,
                    since: tracked[assignee]?.enteredAt
                )
            )
            if entries.count >= limit { break }
        }
        return entries
    }

    /// How many devices and users the app's scopes want that wait for a licence (0 without scopes).
    public func waiting(_ caller: Caller, _ asset: AssetKey) async throws -> Int {
        try caller.require(.read)
        let scopes = try await store.inTenant(caller.tenantID) { tx in try await tx.scopes() }
            .filter { $0.asset == asset }
        guard !scopes.isEmpty else { return 0 }
        return try await reconcile.preview(caller.tenantID, asset, scopes: scopes).plan.waiting.count
    }

    /// The tenant's scopes and the one named `name` among them (unknown: ``UseCaseError/unknownScope(_:)``).
    private func storedScopes(_ tenant: TenantID, naming name: ScopeName) async throws -> ([AppScope], AppScope) {
        let scopes = try await store.inTenant(tenant) { tx in try await tx.scopes() }
        guard let scope = scopes.first(where: { $0.name == name }) else { throw UseCaseError.unknownScope(name.value) }
        return (scopes, scope)
    }
}
