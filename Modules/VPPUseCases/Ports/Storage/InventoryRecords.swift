import Foundation
import VPPDomain

/// Devices and managed users of one tenant, inside its unit of work (see ``TenantTransaction``).
public protocol InventoryRecords: Sendable {
    func upsertDevices(_ devices: [Device]) async throws
    /// Every device of the tenant. Whole table: prefer ``devicePage(after:limit:filter:)``.
    func devices() async throws -> [Device]
    /// Just these devices (an assignment reads what it names, not the whole inventory).
    func devices(_ serials: [SerialNumber]) async throws -> [Device]
    func device(_ serial: SerialNumber) async throws -> Device?
    /// One page of devices ordered by serial number, those after `after` that `filter` selects (keyset: a page
    /// never repeats or skips a device however the inventory changes between pages).
    func devicePage(after: SerialNumber?, limit: Int, filter: DeviceFilter) async throws -> [Device]
    /// One page of devices in `sort`'s order, those after `after` (the column's value, then the serial) that
    /// `filter` selects.
    func devicePage(
        after: ListingPosition<SerialNumber>?,
        limit: Int,
        filter: DeviceFilter,
        sort: ListingSort<DeviceSortColumn>
    ) async throws -> [Device]
    /// How many devices `filter` selects.
    func deviceCount(filter: DeviceFilter) async throws -> Int
    func upsertUsers(_ users: [ManagedUser]) async throws
    /// Every managed user of the tenant (whole table).
    func users() async throws -> [ManagedUser]
    func users(_ ids: [ClientUserID]) async throws -> [ManagedUser]
    /// One page of users ordered by id, those after `after` whose id or e-mail contains `search`
    /// (case-insensitive; nil: all), keyset like ``devicePage(after:limit:filter:)``.
    func userPage(after: ClientUserID?, limit: Int, search: String?) async throws -> [ManagedUser]
    /// Records which MDM enrollment a user's declarations go to (nil: none).
    /// - Returns: false when the tenant has no such user (nothing changed).
    func setUserEnrollment(_ id: ClientUserID, enrollmentID: String?) async throws -> Bool
    /// The MDM enrollments of these users, for those that have one.
    func userEnrollments(_ ids: [ClientUserID]) async throws -> [ClientUserID: String]
}
