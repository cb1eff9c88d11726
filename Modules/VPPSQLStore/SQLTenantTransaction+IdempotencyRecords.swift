import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction: IdempotencyRecords {
    func claimIdempotencyKey(
        _ key: String,
        fingerprint: String,
        now: Date,
        claimedUntil: Date,
        expiresAt: Date
    ) async throws -> IdempotencyClaim {
        // One statement claims a new key, an expired one, or this request's own abandoned claim; concurrent
        // claims of one key queue on its row, and the loser sees the winner's claim.
        let claimed = try await exec(
            """
            INSERT INTO idempotency_keys (
                tenant_id, idempotency_key, fingerprint, status, content_type, body, created_at, claimed_until,
                expires_at)
            VALUES (\(tenantID), \(key), \(fingerprint), NULL, NULL, NULL, \(now), \(claimedUntil), \(expiresAt))
            ON CONFLICT (tenant_id, idempotency_key) DO UPDATE SET fingerprint = excluded.fingerprint,
                status = NULL, content_type = NULL, body = NULL, created_at = excluded.created_at,
                claimed_until = excluded.claimed_until, expires_at = excluded.expires_at
            WHERE idempotency_keys.expires_at <= excluded.created_at
                OR (idempotency_keys.status IS NULL AND idempotency_keys.claimed_until <= excluded.created_at
                    AND idempotency_keys.fingerprint = excluded.fingerprint)
            RETURNING idempotency_key
            """
        )
        guard claimed.isEmpty else { return .claimed }
        guard
            let row = try await exec(
                """
                SELECT fingerprint, status, content_type, body FROM idempotency_keys
                WHERE tenant_id = \(tenantID) AND idempotency_key = \(key)
                """
            ).first
        else { return .inProgress }
        guard try row.decode("fingerprint") as String == fingerprint else { return .mismatch }
        guard let status: Int = try row.decode("status") else { return .inProgress }
        return .replay(
            IdempotentAnswer(
                status: status,
                contentType: try row.decode("content_type"),
                body: try row.decode("body") ?? []
            )
        )
    }

    func recordIdempotentAnswer(_ key: String, fingerprint: String, answer: IdempotentAnswer) async throws {
        try await exec(
            """
            UPDATE idempotency_keys SET status = \(answer.status), content_type = \(answer.contentType),
                body = \(answer.body)
            WHERE tenant_id = \(tenantID) AND idempotency_key = \(key) AND fingerprint = \(fingerprint)
                AND status IS NULL
            """
        )
    }

    func releaseIdempotencyKey(_ key: String, fingerprint: String) async throws {
        try await exec(
            """
            DELETE FROM idempotency_keys
            WHERE tenant_id = \(tenantID) AND idempotency_key = \(key) AND fingerprint = \(fingerprint)
                AND status IS NULL
            """
        )
    }

    func purgeIdempotencyKeys(now: Date, limit: Int) async throws -> Int {
        try await exec(
            """
            DELETE FROM idempotency_keys
            WHERE tenant_id = \(tenantID) AND idempotency_key IN (
                SELECT idempotency_key FROM idempotency_keys
                WHERE tenant_id = \(tenantID) AND expires_at < \(now) LIMIT \(limit))
            RETURNING idempotency_key
            """
        ).count
    }
}
