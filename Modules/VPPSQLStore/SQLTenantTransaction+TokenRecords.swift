import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction: TokenRecords {
    static let tokenColumns: SQLQuery = """
        token_id, location_uid, location_name, country, org_name, expires_at, fingerprint, recipients,
        revoked_at, invalid_since, holder_id, holder_name, holder_metadata
        """

    func token(from row: SQLRow) throws -> ContentToken {
        var holder: HolderIdentity?
        if let id = try row.decode("holder_id", as: String?.self) {
            holder = HolderIdentity(
                id: id,
                name: try row.decode("holder_name") ?? "",
                metadata: try row.decode("holder_metadata") ?? ""
            )
        }
        return ContentToken(
            id: try row.decode("token_id"),
            tenantID: tenantID,
            location: Location(
                appleID: try row.decode("location_uid"),
                name: try row.decode("location_name"),
                countryCode: try row.decode("country")
            ),
            organizationName: try row.decode("org_name"),
            expiresAt: try row.decode("expires_at"),
            secretFingerprint: try row.decode("fingerprint"),
            noticeRecipients: JSONList.decode(try row.decode("recipients")),
            revokedAt: try row.decode("revoked_at"),
            invalidSince: try row.decode("invalid_since"),
            observedHolder: holder
        )
    }

    func insertToken(_ token: ContentToken, secret: SealedSecret) async throws {
        let holder = token.observedHolder
        try await exec(
            """
            INSERT INTO tokens (tenant_id, \(fragment: Self.tokenColumns), secret_key_id, secret)
            VALUES (\(tenantID), \(token.id), \(token.location.appleID), \(token.location.name),
                \(token.location.countryCode), \(token.organizationName), \(token.expiresAt),
                \(token.secretFingerprint),
                \(JSONList.encode(token.noticeRecipients)), \(token.revokedAt), \(token.invalidSince), \(holder?.id),
                \(holder?.name), \(holder?.metadata), \(secret.keyID), \(secret.ciphertext))
            """,
            unique: { _ in .duplicateLocation(locationName: token.location.name) }
        )
    }

    func updateToken(_ token: ContentToken) async throws {
        let holder = token.observedHolder
        let rows = try await exec(
            """
            UPDATE tokens SET location_uid = \(token.location.appleID), location_name = \(token.location.name),
                country = \(token.location.countryCode), org_name = \(token.organizationName),
                expires_at = \(token.expiresAt), fingerprint = \(token.secretFingerprint),
                recipients = \(JSONList.encode(token.noticeRecipients)), revoked_at = \(token.revokedAt),
                invalid_since = \(token.invalidSince), holder_id = \(holder?.id), holder_name = \(holder?.name),
                holder_metadata = \(holder?.metadata)
            WHERE tenant_id = \(tenantID) AND token_id = \(token.id) RETURNING token_id
            """,
            unique: { _ in .duplicateLocation(locationName: token.location.name) }
        )
        if rows.isEmpty { throw StoreError.unknownToken(token.id) }
    }

    func replaceTokenSecret(_ id: TokenID, secret: SealedSecret) async throws {
        let rows = try await exec(
            """
            UPDATE tokens SET secret_key_id = \(secret.keyID), secret = \(secret.ciphertext)
            WHERE tenant_id = \(tenantID) AND token_id = \(id) RETURNING token_id
            """
        )
        if rows.isEmpty { throw StoreError.unknownToken(id) }
    }

    private func tokens(where condition: SQLQuery) async throws -> [ContentToken] {
        try await exec(
            """
            SELECT \(fragment: Self.tokenColumns) FROM tokens WHERE tenant_id = \(tenantID) AND \(fragment: condition)
            ORDER BY location_name
            """
        ).map(token(from:))
    }

    func token(_ id: TokenID) async throws -> ContentToken? { try await tokens(where: "token_id = \(id)").first }

    func token(locationAppleID: String) async throws -> ContentToken? {
        try await tokens(where: "location_uid = \(locationAppleID)").first
    }

    func tokens() async throws -> [ContentToken] { try await tokens(where: "true") }

    func tokenSecret(_ id: TokenID) async throws -> SealedSecret? {
        try await exec("SELECT secret_key_id, secret FROM tokens WHERE tenant_id = \(tenantID) AND token_id = \(id)")
            .first.map { SealedSecret(keyID: try $0.decode("secret_key_id"), ciphertext: try $0.decode("secret")) }
    }

    func deleteToken(_ id: TokenID) async throws {
        // Children first, so the same code works whether or not the database enforces ON DELETE CASCADE.
        for table in ["pending_events", "assignments", "token_assets", "token_sync"] {
            try await exec("DELETE FROM \(unescaped: table) WHERE tenant_id = \(tenantID) AND token_id = \(id)")
        }
        let rows = try await exec(
            "DELETE FROM tokens WHERE tenant_id = \(tenantID) AND token_id = \(id) RETURNING token_id"
        )
        if rows.isEmpty { throw StoreError.unknownToken(id) }
    }

    func setNotificationSecret(_ id: TokenID, secret: SealedSecret) async throws {
        let rows = try await exec(
            """
            UPDATE tokens SET notification_key_id = \(secret.keyID), notification_secret = \(secret.ciphertext)
            WHERE tenant_id = \(tenantID) AND token_id = \(id) RETURNING token_id
            """
        )
        if rows.isEmpty { throw StoreError.unknownToken(id) }
    }

    func notificationSecret(_ id: TokenID) async throws -> SealedSecret? {
        guard
            let row = try await exec(
                """
                SELECT notification_key_id, notification_secret FROM tokens
                WHERE tenant_id = \(tenantID) AND token_id = \(id)
                """
            ).first,
            let keyID = try row.decode("notification_key_id", as: String?.self)
        else { return nil }
        return SealedSecret(keyID: keyID, ciphertext: try row.decode("notification_secret"))
    }

    func syncState(_ id: TokenID) async throws -> TokenSyncState? {
        try await exec(
            """
            SELECT assignments_version, last_success_at, last_attempt_at, last_error, failures FROM token_sync
            WHERE tenant_id = \(tenantID) AND token_id = \(id)
            """
        ).first.map { row in
            TokenSyncState(
                tokenID: id,
                assignmentsVersionID: try row.decode("assignments_version"),
                lastSuccessAt: try row.decode("last_success_at"),
                lastAttemptAt: try row.decode("last_attempt_at"),
                lastError: try row.decode("last_error"),
                consecutiveFailures: try row.decode("failures")
            )
        }
    }

    func saveSyncState(_ state: TokenSyncState) async throws {
        try await exec(
            """
            INSERT INTO token_sync (tenant_id, token_id, assignments_version, last_success_at, last_attempt_at,
                last_error, failures)
            VALUES (\(tenantID), \(state.tokenID), \(state.assignmentsVersionID), \(state.lastSuccessAt),
                \(state.lastAttemptAt), \(state.lastError), \(state.consecutiveFailures))
            ON CONFLICT (tenant_id, token_id) DO UPDATE SET assignments_version = excluded.assignments_version,
                last_success_at = excluded.last_success_at, last_attempt_at = excluded.last_attempt_at,
                last_error = excluded.last_error, failures = excluded.failures
            """
        )
    }
}
