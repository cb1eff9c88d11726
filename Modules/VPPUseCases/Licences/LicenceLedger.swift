import Foundation
import VPPDomain

/// The rules that follow a licence's moves, whichever way vpp learns of them (Apple's event status, a
/// notification, a sync, a recovered intent) and on whichever server: a device whose licence Apple
/// confirms gets exactly one InstallApplication (the outbox keeps one per licence), a revoke asked for
/// while the assignment was unsettled is queued the moment it settles, and a device that loses a licence
/// it had installed gets one RemoveApplication.
enum LicenceLedger {
    /// Applies the consequences of licences that just became active.
    static func confirmed(_ tx: any TenantTransaction, _ rows: [Assignment], now: Date) async throws {
        let toRevoke = rows.filter(\.revokeRequested)
        if !toRevoke.isEmpty { try await tx.move(toRevoke.map(\.id), to: .revocationQueued) }
        let licenceOnly = try await scoped(tx, rows) { $0.mode == .licenceOnly }
        let commands: [DeviceCommand] = rows.filter { !$0.revokeRequested }.compactMap { row in
            guard case .device(let serial) = row.assignee, !licenceOnly.contains(row.id) else { return nil }
            return DeviceCommand(
                serialNumber: serial.value, kind: .installApplication, adamID: row.asset.adamID,
                assignmentID: row.id, createdAt: now)
        }
        try await tx.enqueueDeviceCommands(commands)
    }

    /// Applies the consequences of licences Apple took back: the app leaves devices that have it.
    static func revoked(_ tx: any TenantTransaction, _ rows: [Assignment], now: Date) async throws {
        let serials = rows.compactMap { if case .device(let serial) = $0.assignee { serial } else { nil } }
        guard !serials.isEmpty else { return }
        let devices = Dictionary(uniqueKeysWithValues: try await tx.devices(serials).map { ($0.serialNumber, $0) })
        // A scope whose removal policy keeps the app installed: the licence goes, the app stays.
        let keepInstalled = try await scoped(tx, rows) { $0.leftAt != nil && !$0.uninstallOnRemoval }
        let commands: [DeviceCommand] = rows.compactMap { row in
            guard case .device(let serial) = row.assignee, devices[serial]?.hasInstalled(row.asset) == true,
                !keepInstalled.contains(row.id)
            else {
                return nil
            }
            return DeviceCommand(
                serialNumber: serial.value, kind: .removeApplication, adamID: row.asset.adamID,
                assignmentID: row.id, createdAt: now)
        }
        try await tx.enqueueDeviceCommands(commands)
    }

    /// The licences among `rows` whose scope tracking matches `rule` (one indexed lookup per app).
    private static func scoped(
        _ tx: any TenantTransaction, _ rows: [Assignment], _ rule: (TrackedMember) -> Bool
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
