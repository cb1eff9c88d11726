import Foundation
import VPPDomain

/// Retires devices: they receive no new licences, and ``RevokeLicences/reclaimRetired(_:)`` takes back what
/// they hold. All or nothing: a list naming a device the tenant does not know changes nothing and says which.
public struct RetireDevices: Sendable {
    let store: any Store
    let auditTrail: AuditTrail
    let clock: any Clock

    /// Takes only what this use case touches.
    public init(store: any Store, auditTrail: AuditTrail, clock: any Clock = SystemClock()) {
        self.store = store
        self.auditTrail = auditTrail
        self.clock = clock
    }

    /// Marks `serials` retired (retiring one already retired is harmless); returns the devices as stored.
    @discardableResult
    public func callAsFunction(_ caller: Caller, _ serials: [SerialNumber]) async throws -> [Device] {
        try caller.require(.manageLicences)
        guard !serials.isEmpty else { throw UseCaseError.noAssignees }
        let unique = Array(Set(serials)).sorted()
        let retired = try await store.inTenant(caller.tenantID) { tx in
            let known = try await tx.devices(unique)
            let found = Set(known.map(\.serialNumber))
            let unknown = unique.filter { !found.contains($0) }.map(\.value)
            guard unknown.isEmpty else { throw UseCaseError.unknownDevices(unknown) }
            let retired = known.map { device in
                var device = device
                device.isRetired = true
                return device
            }
            try await tx.upsertDevices(retired)
            try await auditTrail.record(
                tx,
                caller,
                AuditEntry(
                    .deviceRetire,
                    .devices(count: retired.count),
                    .ok,
                    retired.map(\.serialNumber.value).sorted().prefix(20).joined(separator: ", ")
                )
            )
            return retired
        }
        // A retired device leaves every scope (its licence follows the scope's removal policy).
        try await RequestReconcile(store: store, clock: clock).ifScoped(caller.tenantID)
        return retired
    }
}
