import Foundation
import VPPDomain

/// Devices and managed users of one tenant, inside its unit of work (see ``TenantTransaction``).
public protocol InventoryRecords: Sendable {
    func upsertDevices(_ devices: [Device]) async throws
    /// Every device of the tenant. Whole table: prefer ``devicePage(after:limit:serialPrefix:enrolled:includeRetired:)``.
    func devices() async throws -> [Device]
    /// Just these devices (an assignment reads what it names, not the whole inventory).
    func devices(_ serials: [SerialNumber]) async throws -> [Device]
    func device(_ serial: SerialNumber) async throws -> Device?
    /// One page of devices ordered by serial number, those after `after` (keyset: a page never repeats or
    /// skips a device however the inventory changes between pages).
    /// - Parameters:
    ///   - serialPrefix: only serials starting with it (upper-cased first, as serials are stored).
    ///   - enrolled: true: only devices whose MDM enrollment completed; false: only the others; nil: all.
    ///   - includeRetired: whether retired devices are listed.
    func devicePage(
        after: SerialNumber?,
        limit: Int,
        serialPrefix: String?,
        enrolled: Bool?,
        includeRetired: Bool
    ) async throws -> [Device]
    func upsertUsers(_ users: [ManagedUser]) async throws
    /// Every managed user of the tenant (whole table).
    func users() async throws -> [ManagedUser]
    func users(_ ids: [ClientUserID]) async throws -> [ManagedUser]
}
