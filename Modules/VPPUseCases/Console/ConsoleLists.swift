import Foundation
import VPPDomain

/// The console's long lists, paged and sorted by the database: an app's licences, the devices, the users.
public struct ConsoleLists: Sendable {
    let services: VPPServices

    public init(services: VPPServices) { self.services = services }

    public func licences(_ caller: Caller, _ asset: AssetKey, _ window: ListWindow<LicenceListColumn>) async throws -> ListPage<ConsoleLicenceRow> {
        try caller.require(.read)
        return try await services.store.inTenant(caller.tenantID) { tx in try await tx.consoleLicences(asset, window) }
    }

    public func devices(_ caller: Caller, _ window: ListWindow<DeviceListColumn>) async throws -> ListPage<ConsoleHolderRow> {
        try caller.require(.read)
        return try await services.store.inTenant(caller.tenantID) { tx in try await tx.consoleDevices(window) }
    }

    public func users(_ caller: Caller, _ window: ListWindow<UserListColumn>) async throws -> ListPage<ConsoleHolderRow> {
        try caller.require(.read)
        return try await services.store.inTenant(caller.tenantID) { tx in try await tx.consoleUsers(window) }
    }

    /// Devices that could receive `asset` (no licence of it yet), for the app page's picker.
    public func devicesWithout(_ caller: Caller, _ asset: AssetKey, limit: Int) async throws -> [(serial: String, name: String?)] {
        try caller.require(.read)
        return try await services.store.inTenant(caller.tenantID) { tx in try await tx.devicesWithout(asset, limit: limit) }
    }
}
