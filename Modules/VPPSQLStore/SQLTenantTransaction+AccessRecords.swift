import Foundation
import VPPDomain
import VPPUseCases

/// Columns of an API key row, as ``SQLTenantTransaction/apiKeyDetails(_:)`` reads them.
let apiKeyDetailColumns: SQLQuery =
    "tenant_id, key_id, name, role, key_hash, created_by, created_at, last_used_at, expires_at, revoked_at"

extension SQLTenantTransaction: AccessRecords {
    static func apiKey(_ row: SQLRow) throws -> APIKeyRecord {
        APIKeyRecord(
            id: try row.decode("key_id"),
            tenantID: try row.decode("tenant_id"),
            name: try row.decode("name"),
            role: Role(rawValue: try row.decode("role")) ?? .readOnly,
            keyHash: try row.decode("key_hash"),
            createdAt: try row.decode("created_at")
        )
    }

    func insertAPIKey(_ key: APIKeyRecord) async throws {
        try await exec(
            """
            INSERT INTO api_keys (tenant_id, key_id, name, role, key_hash, created_at)
            VALUES (\(tenantID), \(key.id), \(key.name), \(key.role.rawValue), \(key.keyHash), \(key.createdAt))
            """
        )
    }

    func apiKeys() async throws -> [APIKeyRecord] {
        try await exec(
            """
            SELECT tenant_id, key_id, name, role, key_hash, created_at FROM api_keys WHERE tenant_id = \(tenantID)
            ORDER BY created_at
            """
        ).map(Self.apiKey)
    }

    static func apiKeyDetails(_ row: SQLRow) throws -> APIKeyDetails {
        guard let role = Role(rawValue: try row.decode("role")) else { throw StoreError.unreadable("API key role") }
        return APIKeyDetails(
            id: try row.decode("key_id"),
            tenantID: try row.decode("tenant_id"),
            name: try row.decode("name"),
            role: role,
            keyHash: try row.decode("key_hash"),
            createdBy: try row.decode("created_by"),
            createdAt: try row.decode("created_at"),
            lastUsedAt: try row.decode("last_used_at"),
            expiresAt: try row.decode("expires_at"),
            revokedAt: try row.decode("revoked_at")
        )
    }

    func insertAPIKeyDetails(_ key: APIKeyDetails) async throws {
        try await exec(
            """
            INSERT INTO api_keys (\(fragment: apiKeyDetailColumns))
            VALUES (\(tenantID), \(key.id), \(key.name), \(key.role.rawValue), \(key.keyHash), \(key.createdBy),
                \(key.createdAt), \(key.lastUsedAt), \(key.expiresAt), \(key.revokedAt))
            """
        )
    }

    func apiKeyDetails() async throws -> [APIKeyDetails] {
        try await exec(
            """
            SELECT \(fragment: apiKeyDetailColumns) FROM api_keys WHERE tenant_id = \(tenantID)
            ORDER BY created_at, key_id
            """
        )
        .map(Self.apiKeyDetails)
    }

    func apiKeyDetails(_ id: UUID) async throws -> APIKeyDetails? {
        try await exec(
            "SELECT \(fragment: apiKeyDetailColumns) FROM api_keys WHERE tenant_id = \(tenantID) AND key_id = \(id)"
        )
        .first.map(Self.apiKeyDetails)
    }

    func revokeAPIKey(_ id: UUID, at: Date) async throws -> Bool {
        try await !exec(
            """
            UPDATE api_keys SET revoked_at = COALESCE(revoked_at, \(at))
            WHERE tenant_id = \(tenantID) AND key_id = \(id) RETURNING key_id
            """
        ).isEmpty
    }
}
