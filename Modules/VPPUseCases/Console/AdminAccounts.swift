import Foundation
import VPPDomain

/// Creates and lists the tenant's console admins. Passwords are checked, hashed slowly and never stored.
public struct AdminAccounts: Sendable {
    let store: any Store
    let clock: any Clock
    let auditTrail: AuditTrail
    let hasher: any PasswordHasher

    /// Takes only what this use case touches.
    public init(store: any Store, clock: any Clock, auditTrail: AuditTrail, hasher: any PasswordHasher) {
        self.store = store
        self.clock = clock
        self.auditTrail = auditTrail
        self.hasher = hasher
    }

    /// Creates an admin in the caller's tenant (needs the tenant-management permission); audited.
    public func create(_ caller: Caller, username: String, role: Role, password: String) async throws -> AdminAccount {
        try caller.require(.manageTenant)
        let name = try Username(username)
        try AdminAccount.checkPassword(password)
        let account = AdminAccount(
            tenantID: caller.tenantID,
            username: name,
            role: role,
            passwordHash: try await hasher.hash(password),
            createdAt: clock.now()
        )
        try await store.inTenant(caller.tenantID) { tx in
            try await tx.insertAdminAccount(account)
            try await auditTrail.record(
                tx,
                caller,
                AuditEntry(.adminCreate, .admin(username: name.value), .ok, "role \(role.rawValue)")
            )
        }
        return account
    }

    public func list(_ caller: Caller) async throws -> [AdminAccount] {
        try caller.require(.read)
        return try await store.inTenant(caller.tenantID) { tx in try await tx.adminAccounts() }
    }
}
