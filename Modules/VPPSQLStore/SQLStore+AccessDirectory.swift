import Foundation
import VPPDomain
import VPPUseCases

extension SQLStore: AccessDirectory {
    public func apiKeyDetails(hash: String) async throws -> APIKeyDetails? {
        try await run { connection in
            try await connection.query("SELECT \(fragment: apiKeyDetailColumns) FROM api_keys WHERE key_hash = \(hash)")
                .first.map(SQLTenantTransaction.apiKeyDetails)
        }
    }

    public func touchAPIKey(_ id: UUID, at: Date, unlessWithin: TimeInterval) async throws {
        _ = try await run { connection in
            try await connection.query(
                """
                UPDATE api_keys SET last_used_at = \(at)
                WHERE key_id = \(id)
                AND (last_used_at IS NULL OR last_used_at < \(at.addingTimeInterval(-unlessWithin)))
                """
            )
        }
    }

    public func encryptionKeyCheck() async throws -> SealedSecret? {
        try await run { connection in
            try await connection.query("SELECT key_id, sealed FROM encryption_key_check WHERE singleton = 1").first.map
            {
                SealedSecret(keyID: try $0.decode("key_id"), ciphertext: try $0.decode("sealed"))
            }
        }
    }

    public func storeEncryptionKeyCheck(_ sealed: SealedSecret, replace: Bool, at: Date) async throws -> SealedSecret {
        try await run { connection in
            let conflict: SQLQuery =
                replace
                ? "DO UPDATE SET key_id = excluded.key_id, sealed = excluded.sealed, updated_at = excluded.updated_at"
                : "DO NOTHING"
            try await connection.query(
                """
                INSERT INTO encryption_key_check (singleton, key_id, sealed, updated_at)
                VALUES (1, \(sealed.keyID), \(sealed.ciphertext), \(at)) ON CONFLICT (singleton) \(fragment: conflict)
                """
            )
            // Two servers starting at once on an empty database: both read back the one value that won.
            guard
                let row = try await connection.query(
                    "SELECT key_id, sealed FROM encryption_key_check WHERE singleton = 1"
                ).first
            else {
                throw StoreError.unavailable("the encryption key check was not stored")
            }
            return SealedSecret(keyID: try row.decode("key_id"), ciphertext: try row.decode("sealed"))
        }
    }

    public func sampleSealedSecret() async throws -> SealedSecret? {
        try await run { connection in
            try await connection.query("SELECT secret_key_id, secret FROM tokens ORDER BY token_id LIMIT 1").first.map {
                SealedSecret(keyID: try $0.decode("secret_key_id"), ciphertext: try $0.decode("secret"))
            }
        }
    }

    /// Every sealed secret the schema holds. A migration adding a sealed column adds it here too
    /// (`vppctl secrets rotate` re-encrypts exactly these).
    public var sealedSecretColumns: [SealedSecretColumn] {
        [
            SealedSecretColumn(table: "tokens", keyIDColumn: "secret_key_id", secretColumn: "secret"),
            SealedSecretColumn(
                table: "tokens",
                keyIDColumn: "notification_key_id",
                secretColumn: "notification_secret"
            ),
            SealedSecretColumn(table: "mdm_connections", keyIDColumn: "api_key_id", secretColumn: "api_key"),
            SealedSecretColumn(table: "mdm_connections", keyIDColumn: "hmac_key_id", secretColumn: "hmac_key"),
            SealedSecretColumn(table: "mdm_connections", keyIDColumn: "signing_key_id", secretColumn: "signing_secret"),
            SealedSecretColumn(
                table: "tenant_app_delivery",
                keyIDColumn: "publisher_key_id",
                secretColumn: "publisher_key"
            ),
        ]
    }

    public func resealSecrets(
        in column: SealedSecretColumn,
        currentKeyID: String,
        _ reseal: @Sendable (SealedSecret) throws -> SealedSecret
    ) async throws -> Int {
        // Names from ``sealedSecretColumns`` (this store's own schema), never from a request.
        let (table, keyColumn, secretColumn) = (
            SQLQuery(unescaped: column.table), SQLQuery(unescaped: column.keyIDColumn),
            SQLQuery(unescaped: column.secretColumn)
        )
        return try await run { connection in
            let rows = try await connection.query(
                """
                SELECT \(fragment: keyColumn) AS key_id, \(fragment: secretColumn) AS sealed FROM \(fragment: table)
                WHERE \(fragment: secretColumn) IS NOT NULL AND \(fragment: keyColumn) <> \(currentKeyID)
                """
            )
            var count = 0
            for row in rows {
                let old = SealedSecret(keyID: try row.decode("key_id"), ciphertext: try row.decode("sealed"))
                let new = try reseal(old)
                // The old ciphertext (random nonce) identifies its row without knowing each table's key.
                let updated = try await connection.query(
                    """
                    UPDATE \(fragment: table)
                    SET \(fragment: keyColumn) = \(new.keyID), \(fragment: secretColumn) = \(new.ciphertext)
                    WHERE \(fragment: keyColumn) = \(old.keyID) AND \(fragment: secretColumn) = \(old.ciphertext)
                    RETURNING 1
                    """
                )
                count += updated.count
            }
            return count
        }
    }
}
