import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction {
    static let tokenColumns = """
        token_id, location_uid, location_name, country, org_name, expires_at, fingerprint, recipients,
        revoked_at, invalid_since, holder_id, holder_name, holder_metadata
        """

    func token(from row: SQLRow) throws -> ContentToken {
        var holder: HolderIdentity?
        if let id = try row.optionalText(10) {
            holder = HolderIdentity(id: id, name: try row.optionalText(11) ?? "", metadata: try row.optionalText(12) ?? "")
        }
        return ContentToken(
            id: TokenID(try row.uuid(0)), tenantID: tenantID,
            location: Location(appleID: try row.text(1), name: try row.text(2), countryCode: try row.text(3)),
            organizationName: try row.text(4), expiresAt: try row.time(5), secretFingerprint: try row.text(6),
            noticeRecipients: JSONList.decode(try row.optionalText(7)), revokedAt: try row.optionalTime(8),
            invalidSince: try row.optionalTime(9), observedHolder: holder)
    }

    func insertToken(_ token: ContentToken, secret: SealedSecret) async throws {
        try await exec(
            """
            INSERT INTO tokens (tenant_id, \(Self.tokenColumns), secret_key_id, secret)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [tenant] + tokenValues(token) + [.text(secret.keyID), .blob(secret.ciphertext)],
            unique: { _ in .duplicateLocation(locationName: token.location.name) })
    }

    private func tokenValues(_ token: ContentToken) -> [SQLValue] {
        [.uuid(token.id.rawValue), .text(token.location.appleID), .text(token.location.name), .text(token.location.countryCode),
         .text(token.organizationName), .time(token.expiresAt), .text(token.secretFingerprint), JSONList.encode(token.noticeRecipients),
         .optionalTime(token.revokedAt), .optionalTime(token.invalidSince), .optional(token.observedHolder?.id),
         .optional(token.observedHolder?.name), .optional(token.observedHolder?.metadata)]
    }

    func updateToken(_ token: ContentToken) async throws {
        let values = tokenValues(token)
        let rows = try await exec(
            """
            UPDATE tokens SET location_uid = ?, location_name = ?, country = ?, org_name = ?, expires_at = ?, fingerprint = ?,
                recipients = ?, revoked_at = ?, invalid_since = ?, holder_id = ?, holder_name = ?, holder_metadata = ?
            WHERE tenant_id = ? AND token_id = ? RETURNING token_id
            """,
            Array(values.dropFirst()) + [tenant, values[0]],
            unique: { _ in .duplicateLocation(locationName: token.location.name) })
        if rows.isEmpty { throw StoreError.unknownToken(token.id) }
    }

    func replaceTokenSecret(_ id: TokenID, secret: SealedSecret) async throws {
        let rows = try await exec("UPDATE tokens SET secret_key_id = ?, secret = ? WHERE tenant_id = ? AND token_id = ? RETURNING token_id",
                                  [.text(secret.keyID), .blob(secret.ciphertext), tenant, .uuid(id.rawValue)])
        if rows.isEmpty { throw StoreError.unknownToken(id) }
    }

    func token(_ id: TokenID) async throws -> ContentToken? {
        try await exec("SELECT \(Self.tokenColumns) FROM tokens WHERE tenant_id = ? AND token_id = ?", [tenant, .uuid(id.rawValue)])
            .first.map(token(from:))
    }

    func token(locationAppleID: String) async throws -> ContentToken? {
        try await exec("SELECT \(Self.tokenColumns) FROM tokens WHERE tenant_id = ? AND location_uid = ?", [tenant, .text(locationAppleID)])
            .first.map(token(from:))
    }

    func tokenSecret(_ id: TokenID) async throws -> SealedSecret? {
        try await exec("SELECT secret_key_id, secret FROM tokens WHERE tenant_id = ? AND token_id = ?", [tenant, .uuid(id.rawValue)])
            .first.map { SealedSecret(keyID: try $0.text(0), ciphertext: try $0.blob(1)) }
    }

    func tokens() async throws -> [ContentToken] {
        try await exec("SELECT \(Self.tokenColumns) FROM tokens WHERE tenant_id = ? ORDER BY location_name", [tenant]).map(token(from:))
    }

    func deleteToken(_ id: TokenID) async throws {
        // Children first, so the same code works whether or not the database enforces ON DELETE CASCADE.
        for table in ["pending_events", "assignments", "token_assets", "token_sync"] {
            try await exec("DELETE FROM \(table) WHERE tenant_id = ? AND token_id = ?", [tenant, .uuid(id.rawValue)])
        }
        let rows = try await exec("DELETE FROM tokens WHERE tenant_id = ? AND token_id = ? RETURNING token_id", [tenant, .uuid(id.rawValue)])
        if rows.isEmpty { throw StoreError.unknownToken(id) }
    }

    func setNotificationSecret(_ id: TokenID, secret: SealedSecret) async throws {
        let rows = try await exec(
            "UPDATE tokens SET notification_key_id = ?, notification_secret = ? WHERE tenant_id = ? AND token_id = ? RETURNING token_id",
            [.text(secret.keyID), .blob(secret.ciphertext), tenant, .uuid(id.rawValue)])
        if rows.isEmpty { throw StoreError.unknownToken(id) }
    }

    func notificationSecret(_ id: TokenID) async throws -> SealedSecret? {
        guard let row = try await exec("SELECT notification_key_id, notification_secret FROM tokens WHERE tenant_id = ? AND token_id = ?",
                                       [tenant, .uuid(id.rawValue)]).first, !row.isNull(0) else { return nil }
        return SealedSecret(keyID: try row.text(0), ciphertext: try row.blob(1))
    }

    func markNotificationProcessed(_ notificationID: String, type: String, at: Date) async throws -> Bool {
        try await !exec(
            """
            INSERT INTO processed_notifications (tenant_id, notification_id, received_at, type) VALUES (?, ?, ?, ?)
            ON CONFLICT (tenant_id, notification_id) DO NOTHING RETURNING notification_id
            """, [tenant, .text(notificationID), .time(at), .text(type)]).isEmpty
    }

    func syncState(_ id: TokenID) async throws -> TokenSyncState? {
        try await exec(
            "SELECT assignments_version, last_success_at, last_attempt_at, last_error, failures FROM token_sync WHERE tenant_id = ? AND token_id = ?",
            [tenant, .uuid(id.rawValue)]
        ).first.map { row in
            TokenSyncState(tokenID: id, assignmentsVersionID: try row.optionalText(0), lastSuccessAt: try row.optionalTime(1),
                           lastAttemptAt: try row.optionalTime(2), lastError: try row.optionalText(3), consecutiveFailures: try row.int(4))
        }
    }

    func saveSyncState(_ state: TokenSyncState) async throws {
        try await exec(
            """
            INSERT INTO token_sync (tenant_id, token_id, assignments_version, last_success_at, last_attempt_at, last_error, failures)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (tenant_id, token_id) DO UPDATE SET assignments_version = excluded.assignments_version,
                last_success_at = excluded.last_success_at, last_attempt_at = excluded.last_attempt_at,
                last_error = excluded.last_error, failures = excluded.failures
            """,
            [tenant, .uuid(state.tokenID.rawValue), .optional(state.assignmentsVersionID), .optionalTime(state.lastSuccessAt),
             .optionalTime(state.lastAttemptAt), .optional(state.lastError), .int(Int64(state.consecutiveFailures))])
    }
}
