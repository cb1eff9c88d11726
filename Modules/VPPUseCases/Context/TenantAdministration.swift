import Foundation
import VPPDomain

/// Tenants and API keys. Keys are shown once and stored only as SHA-256 hashes.
public struct TenantAdministration: Sendable {
    let store: any Store
    let clock: any Clock
    let auditTrail: AuditTrail

    /// Takes only what this use case touches.
    public init(store: any Store, clock: any Clock, auditTrail: AuditTrail) {
        self.store = store
        self.clock = clock
        self.auditTrail = auditTrail
    }

    /// Creates a tenant whose `mdmInfo` id is its own UUID (so each logical MDM server is distinct at Apple).
    public func createTenant(name: String, hostname: String) async throws -> Tenant {
        let id = TenantID()
        let tenant = Tenant(
            id: id,
            name: name,
            holderIdentity: HolderIdentity(id: id.description, name: "vpp", metadata: hostname)
        )
        try await store.createTenant(tenant)
        return tenant
    }

    /// Creates an API key for the caller's tenant; returns the key itself, which is never stored or shown again.
    public func createAPIKey(
        _ caller: Caller,
        name: String,
        role: Role
    ) async throws -> (key: String, record: APIKeyRecord) {
        try caller.require(.manageTenant)
        let key = "vpp_" + randomHex(bytes: 32)
        let record = APIKeyRecord(
            tenantID: caller.tenantID,
            name: name,
            role: role,
            keyHash: SHA256Digest.hex(of: key),
            createdAt: clock.now()
        )
        try await store.inTenant(caller.tenantID) { tx in
            try await tx.insertAPIKey(record)
            try await auditTrail.record(
                tx,
                caller,
                AuditEntry(.apiKeyCreate, .apiKey(name: name), .ok, "role \(role.rawValue)")
            )
        }
        return (key, record)
    }

    /// The caller an API key stands for; `nil` for an unknown key (the edge answers 401 without detail).
    public func authenticate(apiKey: String) async throws -> Caller? {
        guard apiKey.hasPrefix("vpp_"), apiKey.count < 200,
            let record = try await store.apiKey(hash: SHA256Digest.hex(of: apiKey))
        else {
            return nil
        }
        return Caller(
            tenantID: record.tenantID,
            admin: Admin(tenantID: record.tenantID, name: "api-key:\(record.name)", role: record.role)
        )
    }
}
