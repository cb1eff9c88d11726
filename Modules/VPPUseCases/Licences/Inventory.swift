import Foundation
import VPPDomain

/// Devices and managed users: the MDM tells vpp what it manages; users are registered with Apple.
public struct ManageInventory: Sendable {
    let services: VPPServices

    public init(services: VPPServices) { self.services = services }

    public func addDevices(_ caller: Caller, _ devices: [Device]) async throws {
        try caller.require(.manageLicences)
        try await services.store.inTenant(caller.tenantID) { tx in
            try await tx.upsertDevices(devices)
            try await services.audit(tx, caller, "device.add", "\(devices.count) device(s)")
        }
    }

    public func devices(_ caller: Caller) async throws -> [Device] {
        try caller.require(.read)
        return try await services.store.inTenant(caller.tenantID) { tx in try await tx.devices() }
    }

    /// Registers users with Apple (`users/create`) through every usable token, then records them.
    public func addUsers(_ caller: Caller, _ users: [ManagedUser]) async throws {
        try caller.require(.manageLicences)
        let now = services.clock.now()
        let ours = try await services.holder(of: caller.tenantID)
        let tokens = try await services.store.inTenant(caller.tenantID) { tx in try await tx.tokens() }
            .filter { $0.status(at: now, ourHolder: ours).isUsable }
        for token in tokens {
            let credentials = try await services.credentials(caller.tenantID, token.id)
            _ = try await services.apple.createUsers(credentials, users.map { AppleUserRequest(clientUserID: $0.clientUserID.value, email: $0.email) })
        }
        try await services.store.inTenant(caller.tenantID) { tx in
            try await tx.upsertUsers(users)
            try await services.audit(tx, caller, "user.add", "\(users.count) user(s)", "ok", "registered through \(tokens.count) token(s)")
        }
    }

    public func users(_ caller: Caller) async throws -> [ManagedUser] {
        try caller.require(.read)
        return try await services.store.inTenant(caller.tenantID) { tx in try await tx.users() }
    }
}
