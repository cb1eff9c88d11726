import Foundation
import VPPDomain

/// The rules that follow a licence's moves, whichever way vpp learns of them (Apple's event status, a
/// notification, a sync, a recovered intent) and on whichever server: a device whose licence Apple
/// confirms gets exactly one InstallApplication (the outbox keeps one per licence), a revoke asked for
/// while the assignment was unsettled is queued the moment it settles, and a device that loses a licence
/// it had installed gets one RemoveApplication. In declarative delivery, the device's enrollment joins the
/// app's declaration set instead (once per licence, in the same transaction), and leaves it when the licence goes.
enum LicenceLedger {
    /// Applies the consequences of licences that just became active: per licence, by its scope's mode and the
    /// tenant's delivery, an InstallApplication, the device's enrollment joining the app's declaration set, or
    /// nothing (licence only). Never both for one licence: a device managing the app by declaration fails an
    /// InstallApplication, and keeping both makes the reinstall loop peers hit.
    static func confirmed(_ tx: any TenantTransaction, _ rows: [Assignment], now: Date) async throws {
        let toRevoke = rows.filter(\.revokeRequested)
        if !toRevoke.isEmpty {
            try await tx.move(toRevoke.map(\.id), to: .revocationQueued)
            try await revoking(tx, toRevoke, now: now)
        }
        let granted = rows.filter { !$0.revokeRequested }
        guard !granted.isEmpty else { return }
        let modes = try await scopeModes(tx, granted)
        let tenantDelivery = try await tx.appDelivery()
        var commands: [DeviceCommand] = []
        var joins: [DeclarationSetChange] = []
        for row in granted {
            let mode = delivery(scope: modes[row.id], tenant: tenantDelivery)
            guard case .device(let serial) = row.assignee else {
                // A user licence reaches the user's enrollment by a `User` declaration; InstallApplication has no
                // user licence to name, so in command delivery it stays licence-only, as it always was.
                if mode == .declaration { joins.append(DeclarationSetChange(for: row, kind: .join, createdAt: now)) }
                continue
            }
            switch mode {
            case .licenceOnly: continue
            case .install:
                commands.append(
                    DeviceCommand(
                        serialNumber: serial.value,
                        kind: .installApplication,
                        adamID: row.asset.adamID,
                        assignmentID: row.id,
                        createdAt: now
                    )
                )
            case .declaration:
                joins.append(DeclarationSetChange(for: row, kind: .join, createdAt: now))
            }
        }
        try await tx.enqueueDeviceCommands(commands)
        try await tx.enqueueDeclarationSetChanges(joins)
        // A licence re-associated to heal Error.LicenseNotFound exists again: its declaration is re-published
        // (a new ServerToken) so the device evaluates it now, not before.
        try await tx.healsReassociated(granted.map(\.id), now: now)
    }

    /// Licences about to be revoked (moved to revocation-queued): a device that joined the app's declaration set
    /// leaves it first. The leave is queued now, and the store's intent claim holds the disassociate back until it
    /// is carried out, so the device removes the app while its licence still exists.
    /// - Returns: the licences whose leave was queued.
    @discardableResult
    static func revoking(_ tx: any TenantTransaction, _ rows: [Assignment], now: Date) async throws -> Set<AssignmentID>
    {
        guard !rows.isEmpty else { return [] }
        let joined = try await tx.joinedLicences(rows.map(\.id))
        let leaves: [DeclarationSetChange] = rows.compactMap { row in
            guard joined.contains(row.id) else { return nil }
            return DeclarationSetChange(for: row, kind: .leave, createdAt: now)
        }
        try await tx.enqueueDeclarationSetChanges(leaves)
        return Set(leaves.map(\.assignmentID))
    }

    /// How a licence reaches its device: a scope's `declaration` or `licenceOnly` decides; otherwise (a scope's
    /// `install`, or no scope) the tenant's default delivery.
    static func delivery(scope: ScopeDeliveryMode?, tenant: AppDelivery) -> ScopeDeliveryMode {
        switch scope {
        case .licenceOnly: .licenceOnly
        case .declaration: .declaration
        case .install, nil: tenant == .declarations ? .declaration : .install
        }
    }

    /// Applies the consequences of licences Apple took back: the app leaves devices that have it — by leaving
    /// the app's declaration set when the device joined it, else by a RemoveApplication.
    static func revoked(_ tx: any TenantTransaction, _ rows: [Assignment], now: Date) async throws {
        let serials = rows.compactMap { if case .device(let serial) = $0.assignee { serial } else { nil } }
        // A user licence whose user's enrollment joined the app's set leaves it (the user's app goes with it).
        let users = rows.filter { if case .user = $0.assignee { true } else { false } }
        if !users.isEmpty {
            let joinedUsers = try await tx.joinedLicences(users.map(\.id))
            try await tx.enqueueDeclarationSetChanges(
                users.filter { joinedUsers.contains($0.id) }.map {
                    DeclarationSetChange(for: $0, kind: .leave, createdAt: now)
                }
            )
        }
        guard !serials.isEmpty else { return }
        let devices = Dictionary(uniqueKeysWithValues: try await tx.devices(serials).map { ($0.serialNumber, $0) })
        // A scope whose removal policy keeps the app installed: the licence goes, the app stays.
        let keepInstalled = try await scoped(tx, rows) { $0.leftAt != nil && !$0.uninstallOnRemoval }
        let joined = try await tx.joinedLicences(rows.map(\.id))
        var leaves: [DeclarationSetChange] = []
        let commands: [DeviceCommand] = rows.compactMap { row in
            guard case .device(let serial) = row.assignee else { return nil }
            if joined.contains(row.id) {
                // Without a licence the declaration cannot stay: the set is left whatever the removal policy.
                leaves.append(DeclarationSetChange(for: row, kind: .leave, createdAt: now))
                return nil
            }
            guard devices[serial]?.hasInstalled(row.asset) == true, !keepInstalled.contains(row.id) else {
                return nil
            }
            return DeviceCommand(
                serialNumber: serial.value,
                kind: .removeApplication,
                adamID: row.asset.adamID,
                assignmentID: row.id,
                createdAt: now
            )
        }
        try await tx.enqueueDeviceCommands(commands)
        try await tx.enqueueDeclarationSetChanges(leaves)
    }

    /// The scope delivery mode of each licence among `rows` that a scope tracks (one indexed lookup per app).
    private static func scopeModes(
        _ tx: any TenantTransaction,
        _ rows: [Assignment]
    ) async throws -> [AssignmentID: ScopeDeliveryMode] {
        var modes: [AssignmentID: ScopeDeliveryMode] = [:]
        for (asset, group) in Dictionary(grouping: rows, by: \.asset) {
            let tracked = Dictionary(
                try await tx.trackedMembers(asset, group.map(\.assignee)).map { ($0.assignee, $0.mode) },
                uniquingKeysWith: { first, _ in first }
            )
            for row in group { modes[row.id] = tracked[row.assignee] }
        }
        return modes
    }

    /// The licences among `rows` whose scope tracking matches `rule` (one indexed lookup per app).
    private static func scoped(
        _ tx: any TenantTransaction,
        _ rows: [Assignment],
        _ rule: (TrackedMember) -> Bool
    ) async throws -> Set<AssignmentID> {
        var matched = Set<AssignmentID>()
        for (asset, group) in Dictionary(grouping: rows, by: \.asset) {
            let tracked = try await tx.trackedMembers(asset, group.map(\.assignee))
            let hits = Set(tracked.filter(rule).map(\.assignee))
            for row in group where hits.contains(row.assignee) { matched.insert(row.id) }
        }
        return matched
    }
}
