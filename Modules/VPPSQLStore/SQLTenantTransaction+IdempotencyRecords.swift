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
        // One statement claims a new key, an expired one, or this request's own abandoned claim that changed
        // nothing; concurrent claims of one key queue on its row, and the loser sees the winner's claim.
        let claimed = try await exec(
            """
            INSERT INTO idempotency_keys (
                tenant_id, idempotency_key, fingerprint, status, content_type, body, created_at, claimed_until,
                expires_at)
            VALUES (\(tenantID), \(key), \(fingerprint), NULL, NULL, NULL, \(now), \(claimedUntil), \(expiresAt))
            ON CONFLICT (tenant_id, idempotency_key) DO UPDATE SET fingerprint = excluded.fingerprint,
                status = NULL, content_type = NULL, body = NULL, created_at = excluded.created_at,
                claimed_until = excluded.claimed_until, expires_at = excluded.expires_at,
                carried_out = false
            WHERE idempotency_keys.expires_at <= excluded.created_at
                OR (idempotency_keys.status IS NULL AND idempotency_keys.claimed_until <= excluded.created_at
                    AND idempotency_keys.fingerprint = excluded.fingerprint AND NOT idempotency_keys.carried_out)
            RETURNING idempotency_key
            """
        )
        guard claimed.isEmpty else { return .claimed }
        guard
            let row = try await exec(
                """
                SELECT fingerprint, status, content_type, body, claimed_until, carried_out FROM idempotency_keys
                WHERE tenant_id = \(tenantID) AND idempotency_key = \(key)
                """
            ).first
        else { return .inProgress }
        guard try row.decode("fingerprint") as String == fingerprint else { return .mismatch }
        guard let status: Int = try row.decode("status") else {
            let claimedUntil: Date = try row.decode("claimed_until")
            let carriedOut: Bool = try row.decode("carried_out")
            return claimedUntil <= now && carriedOut ? .outcomeLost : .inProgress
        }
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

    func releaseIdempotencyKey(_ key: String, fingerprint: String, now: Date) async throws {
        // A request that committed a write keeps its claim, ended now: its retry learns the outcome was lost.
        try await exec(
            """
            DELETE FROM idempotency_keys
            WHERE tenant_id = \(tenantID) AND idempotency_key = \(key) AND fingerprint = \(fingerprint)
                AND status IS NULL AND NOT carried_out
            """
        )
        try await exec(
            """
            UPDATE idempotency_keys SET claimed_until = \(now)
            WHERE tenant_id = \(tenantID) AND idempotency_key = \(key) AND fingerprint = \(fingerprint)
                AND status IS NULL AND carried_out
            """
        )
    }

    func markIdempotentWrite(_ key: String, fingerprint: String) async throws {
        try await markCarriedOut(
            IdempotentRequest(tenantID: tenantID, key: key, fingerprint: fingerprint),
            wrote: "1 = 1"
        )
    }

    /// Marks the claim of `request` carried out if this transaction wrote anything (``IdempotentRequest``);
    /// `wrote` is the dialect's test of that, evaluated before this statement changes a row.
    func markCarriedOut(_ request: IdempotentRequest, wrote: SQLQuery) async throws {
        try await exec(
            """
            UPDATE idempotency_keys SET carried_out = true
            WHERE tenant_id = \(tenantID) AND idempotency_key = \(request.key)
                AND fingerprint = \(request.fingerprint) AND status IS NULL AND NOT carried_out AND \(fragment: wrote)
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
