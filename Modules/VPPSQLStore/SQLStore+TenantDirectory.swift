import Foundation
import VPPDomain
import VPPUseCases

extension SQLStore: TenantDirectory {
    public func createTenant(_ tenant: Tenant) async throws {
        let now = clock()
        let holder = tenant.holderIdentity
        _ = try await run { connection in
            try await connection.query(
                """
                INSERT INTO tenants (tenant_id, name, holder_id, holder_name, holder_metadata, created_at)
                VALUES (\(tenant.id), \(tenant.name), \(holder.id), \(holder.name), \(holder.metadata), \(now))
                """
            )
        } unique: { _ in
            StoreError.duplicateTenant(tenant.name)
        }
    }

    public func tenant(_ id: TenantID) async throws -> Tenant? {
        try await tenants(where: "tenant_id = \(id)").first
    }

    public func tenant(named name: String) async throws -> Tenant? {
        try await tenants(where: "name = \(name)").first
    }

    public func tenant(holderID: String) async throws -> Tenant? {
        try await tenants(where: "holder_id = \(holderID)").first
    }

    public func tenants() async throws -> [Tenant] { try await tenants(where: "true") }

    private func tenants(where condition: SQLQuery) async throws -> [Tenant] {
        try await run { connection in
            try await connection.query(
                """
                SELECT tenant_id, name, holder_id, holder_name, holder_metadata FROM tenants
                WHERE \(fragment: condition) ORDER BY name
                """
            )
            .map { row in
                Tenant(
                    id: try row.decode("tenant_id"),
                    name: try row.decode("name"),
                    holderIdentity: HolderIdentity(
                        id: try row.decode("holder_id"),
                        name: try row.decode("holder_name"),
                        metadata: try row.decode("holder_metadata")
                    )
                )
            }
        }
    }

    public func apiKey(hash: String) async throws -> APIKeyRecord? {
        try await run { connection in
            try await connection.query(
                "SELECT tenant_id, key_id, name, role, key_hash, created_at FROM api_keys WHERE key_hash = \(hash)"
            )
            .first.map(SQLTenantTransaction.apiKey)
        }
    }

    public func tenantOwning(tokenID: TokenID) async throws -> TenantID? {
        try await run { connection in
            try await connection.query("SELECT tenant_id FROM tokens WHERE token_id = \(tokenID)").first.map {
                try $0.decode("tenant_id")
            }
        }
    }
}
