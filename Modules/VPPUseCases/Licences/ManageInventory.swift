import Foundation
import VPPDomain

/// Devices and managed users: the MDM tells vpp what it manages; users are registered with Apple.
public struct ManageInventory: Sendable {
    let store: any Store
    let clock: any Clock
    let apple: any AppleAppsAndBooks
    let tokenCredentials: TokenCredentials
    let auditTrail: AuditTrail

    /// Takes only what this use case touches.
    public init(
        store: any Store,
        clock: any Clock,
        apple: any AppleAppsAndBooks,
        tokenCredentials: TokenCredentials,
        auditTrail: AuditTrail
    ) {
        self.store = store
        self.clock = clock
        self.apple = apple
        self.tokenCredentials = tokenCredentials
        self.auditTrail = auditTrail
    }

    public func addDevices(_ caller: Caller, _ devices: [Device]) async throws {
        try caller.require(.manageLicences)
        try await store.inTenant(caller.tenantID) { tx in
            try await tx.upsertDevices(devices)
            try await auditTrail.record(tx, caller, AuditEntry(.deviceAdd, .devices(count: devices.count)))
        }
    }

    public func devices(_ caller: Caller) async throws -> [Device] {
        try caller.require(.read)
        return try await store.inTenant(caller.tenantID) { tx in try await tx.devices() }
    }

    /// Registers users with Apple (`users/create`) through every usable token, then records them.
    public func addUsers(_ caller: Caller, _ users: [ManagedUser]) async throws {
        try caller.require(.manageLicences)
        let now = clock.now()
        let ours = try await tokenCredentials.holder(of: caller.tenantID)
        let tokens = try await store.inTenant(caller.tenantID) { tx in try await tx.tokens() }
            .filter { $0.status(at: now, ourHolder: ours).isUsable }
        for token in tokens {
            let credentials = try await tokenCredentials.open(caller.tenantID, token.id)
            _ = try await apple.createUsers(
                credentials,
                users.map { AppleUserRequest(clientUserID: $0.clientUserID.value, email: $0.email) }
            )
        }
        try await store.inTenant(caller.tenantID) { tx in
            try await tx.upsertUsers(users)
            try await auditTrail.record(
                tx,
                caller,
                AuditEntry(.userAdd, .users(count: users.count), .ok, "registered through \(tokens.count) token(s)")
            )
        }
    }

    public func users(_ caller: Caller) async throws -> [ManagedUser] {
        try caller.require(.read)
        return try await store.inTenant(caller.tenantID) { tx in try await tx.users() }
    }
}
