import Foundation
import VPPDomain

/// Gives back the licences of devices that left MDM, once the tenant's grace period has passed (a device
/// that re-enrolls within it keeps them). Goes through ``RevokeLicences``, so Apple, the ledger, the pool
/// and the audit log all see an ordinary revoke; a dry run lists what would be reclaimed.
public struct ReclaimUnenrolledDevices: Sendable {
    let store: any Store
    let clock: any Clock
    let auditTrail: AuditTrail
    let revoke: RevokeLicences

    /// Takes only what this use case touches.
    public init(store: any Store, clock: any Clock, auditTrail: AuditTrail, revoke: RevokeLicences) {
        self.store = store
        self.clock = clock
        self.auditTrail = auditTrail
        self.revoke = revoke
    }

    /// One device's licences to reclaim.
    public struct Item: Encodable, Sendable, Hashable {
        public let serialNumber: String
        public let unenrolledAt: Date?
        public let adamIds: [String]
        /// Empty when reclaimed (or, in a dry run, when it would be attempted); otherwise why not.
        public var error: String?
    }

    /// - Parameter dryRun: list only; change nothing and call nobody.
    public func callAsFunction(_ caller: Caller, dryRun: Bool) async throws -> [Item] {
        try caller.require(dryRun ? .read : .manageLicences)
        let now = clock.now()
        let (due, held) = try await store.inTenant(caller.tenantID) { tx in
            guard let connection = try await tx.mdmConnection()?.connection else { return ([Device](), [Assignment]()) }
            if let days = connection.silentDaysUnenrolled, !dryRun {
                _ = try await tx.unenrollSilentDevices(
                    lastSeenBefore: now.addingTimeInterval(-Double(days) * 86400),
                    now: now
                )
            }
            let due = try await tx.devicesDueForReclaim(
                unenrolledBefore: now.addingTimeInterval(-connection.reclaimAfter)
            )
            // Only these devices' licences (an indexed lookup), never the tenant's whole ledger.
            let held = due.isEmpty ? [] : try await tx.activeLicences(serials: due.map(\.serialNumber))
            return (due, held)
        }
        let heldByAssignee = Dictionary(grouping: held, by: \.assignee)
        var items: [Item] = []
        for device in due {
            let assets = (heldByAssignee[.device(device.serialNumber)] ?? []).map(\.asset)
            var item = Item(
                serialNumber: device.serialNumber.value,
                unenrolledAt: device.enrollment.unenrolledAt,
                adamIds: assets.map(\.adamID).sorted(),
                error: nil
            )
            if !dryRun {
                var failures: [String] = []
                for asset in Set(assets) {
                    do {
                        _ = try await revoke(
                            caller,
                            asset: asset,
                            from: [.device(device.serialNumber)]
                        )
                    } catch {
                        failures.append("\(asset.adamID): \(error)")
                    }
                }
                item.error = failures.isEmpty ? nil : failures.joined(separator: "; ")
                let reclaimed = item
                try await store.inTenant(caller.tenantID) { tx in
                    if reclaimed.error == nil { try await tx.markReclaimed(device.serialNumber, at: now) }
                    try await auditTrail.record(
                        tx,
                        caller,
                        AuditEntry(
                            .mdmReclaim,
                            .device(device.serialNumber),
                            reclaimed.error == nil ? .ok : .failed,
                            "unenrolled; \(assets.count) licence(s)" + (reclaimed.error.map { ": \($0)" } ?? "")
                        )
                    )
                }
            }
            items.append(item)
        }
        return items
    }
}
