import Foundation
import VPPDomain
import VPPUseCases

/// Columns of an API key row, in the order ``SQLTenantTransaction/apiKeyDetails(_:)`` reads them.
let apiKeyDetailColumns =
    "tenant_id, key_id, name, role, key_hash, created_by, created_at, last_used_at, expires_at, revoked_at"

extension SQLTenantTransaction: AccessRecords {
    static func apiKeyDetails(_ row: SQLRow) throws -> APIKeyDetails {
        guard let role = Role(rawValue: try row.text(3)) else { throw StoreError.unreadable("API key role") }
        return APIKeyDetails(
            id: try row.uuid(1), tenantID: TenantID(try row.uuid(0)), name: try row.text(2), role: role,
            keyHash: try row.text(4), createdBy: try row.text(5), createdAt: try row.time(6),
            lastUsedAt: try row.optionalTime(7), expiresAt: try row.optionalTime(8), revokedAt: try row.optionalTime(9))
    }

    func insertAPIKeyDetails(_ key: APIKeyDetails) async throws {
        try await exec(
            "INSERT INTO api_keys (\(apiKeyDetailColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                tenant, .uuid(key.id), .text(key.name), .text(key.role.rawValue), .text(key.keyHash),
                .text(key.createdBy),
                .time(key.createdAt), .optionalTime(key.lastUsedAt), .optionalTime(key.expiresAt),
                .optionalTime(key.revokedAt),
            ])
    }

    func apiKeyDetails() async throws -> [APIKeyDetails] {
        try await exec(
            "SELECT \(apiKeyDetailColumns) FROM api_keys WHERE tenant_id = ? ORDER BY created_at, key_id", [tenant]
        )
        .map(Self.apiKeyDetails)
    }

    func apiKeyDetails(_ id: UUID) async throws -> APIKeyDetails? {
        try await exec(
            "SELECT \(apiKeyDetailColumns) FROM api_keys WHERE tenant_id = ? AND key_id = ?", [tenant, .uuid(id)]
        )
        .first.map(Self.apiKeyDetails)
    }

    func revokeAPIKey(_ id: UUID, at: Date) async throws -> Bool {
        try await !exec(
            """
            UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE tenant_id = ? AND key_id = ? RETURNING key_id
            """, [.time(at), tenant, .uuid(id)]
        ).isEmpty
    }
}

extension SQLStore: AccessDirectory {
    public func apiKeyDetails(hash: String) async throws -> APIKeyDetails? {
        try await run { connection in
            try await connection.query("SELECT \(apiKeyDetailColumns) FROM api_keys WHERE key_hash = ?", .text(hash))
                .first.map(SQLTenantTransaction.apiKeyDetails)
        }
    }

    public func touchAPIKey(_ id: UUID, at: Date, unlessWithin: TimeInterval) async throws {
        _ = try await run { connection in
            try await connection.query(
                "UPDATE api_keys SET last_used_at = ? WHERE key_id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
                .time(at), .uuid(id), .time(at.addingTimeInterval(-unlessWithin)))
        }
    }

    public func encryptionKeyCheck() async throws -> SealedSecret? {
        try await run { connection in
            try await connection.query("SELECT key_id, sealed FROM encryption_key_check WHERE singleton = 1").first.map
            {
                SealedSecret(keyID: try $0.text(0), ciphertext: try $0.blob(1))
            }
        }
    }

    public func storeEncryptionKeyCheck(_ sealed: SealedSecret, replace: Bool, at: Date) async throws -> SealedSecret {
        try await run { connection in
            let conflict =
                replace
                ? "DO UPDATE SET key_id = excluded.key_id, sealed = excluded.sealed, updated_at = excluded.updated_at"
                : "DO NOTHING"
            try await connection.query(
                "INSERT INTO encryption_key_check (singleton, key_id, sealed, updated_at) VALUES (1, ?, ?, ?) ON CONFLICT (singleton) \(conflict)",
                .text(sealed.keyID), .blob(sealed.ciphertext), .time(at))
            // Two servers starting at once on an empty database: both read back the one value that won.
            guard
                let row = try await connection.query(
                    "SELECT key_id, sealed FROM encryption_key_check WHERE singleton = 1"
                ).first
            else {
                throw StoreError.unavailable("the encryption key check was not stored")
            }
            return SealedSecret(keyID: try row.text(0), ciphertext: try row.blob(1))
        }
    }

    public func sampleSealedSecret() async throws -> SealedSecret? {
        try await run { connection in
            try await connection.query("SELECT secret_key_id, secret FROM tokens ORDER BY token_id LIMIT 1").first.map {
                SealedSecret(keyID: try $0.text(0), ciphertext: try $0.blob(1))
            }
        }
    }

    /// Every sealed secret the schema holds. A migration adding a sealed column adds it here too
    /// (`vppctl secrets rotate` re-encrypts exactly these).
    public var sealedSecretColumns: [SealedSecretColumn] {
        [
            SealedSecretColumn(table: "tokens", keyIDColumn: "secret_key_id", secretColumn: "secret"),
            SealedSecretColumn(
                table: "tokens", keyIDColumn: "notification_key_id", secretColumn: "notification_secret"),
            SealedSecretColumn(table: "mdm_connections", keyIDColumn: "api_key_id", secretColumn: "api_key"),
            SealedSecretColumn(table: "mdm_connections", keyIDColumn: "hmac_key_id", secretColumn: "hmac_key"),
            SealedSecretColumn(table: "mdm_connections", keyIDColumn: "signing_key_id", secretColumn: "signing_secret"),
        ]
    }

    public func resealSecrets(
        in column: SealedSecretColumn, currentKeyID: String,
        _ reseal: @Sendable (SealedSecret) throws -> SealedSecret
    ) async throws -> Int {
        let (table, keyColumn, secretColumn) = (column.table, column.keyIDColumn, column.secretColumn)
        return try await run { connection in
            let rows = try await connection.query(
                "SELECT \(keyColumn), \(secretColumn) FROM \(table) WHERE \(secretColumn) IS NOT NULL AND \(keyColumn) <> ?",
                .text(currentKeyID))
            var count = 0
            for row in rows {
                let old = SealedSecret(keyID: try row.text(0), ciphertext: try row.blob(1))
                let new = try reseal(old)
                // The old ciphertext (random nonce) identifies its row without knowing each table's key.
                let updated = try await connection.query(
                    "UPDATE \(table) SET \(keyColumn) = ?, \(secretColumn) = ? WHERE \(keyColumn) = ? AND \(secretColumn) = ? RETURNING 1",
                    .text(new.keyID), .blob(new.ciphertext), .text(old.keyID), .blob(old.ciphertext))
                count += updated.count
            }
            return count
        }
    }
}
