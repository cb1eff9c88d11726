import Foundation
import VPPDomain
import VPPUseCases

extension SQLStore {
    public func dueWork(now: Date, syncInterval: TimeInterval, retryAfter: TimeInterval, limit: Int) async throws -> DueWork {
        // Each question is one indexed query over all tenants; none walks tenants or tokens one by one.
        let lastSuccess = SQLValue.time(now.addingTimeInterval(-syncInterval))
        let lastAttempt = SQLValue.time(now.addingTimeInterval(-retryAfter))
        let soon = SQLValue.time(now.addingTimeInterval(31 * 86_400))
        let cap = SQLValue.int(Int64(limit))
        return try await run { connection in
            var work = DueWork()
            work.syncs = try await connection.query(
                """
                SELECT t.tenant_id, t.token_id FROM tokens t
                LEFT JOIN token_sync s ON s.tenant_id = t.tenant_id AND s.token_id = t.token_id
                WHERE t.expires_at > ? AND t.revoked_at IS NULL AND t.invalid_since IS NULL
                  AND (s.last_success_at IS NULL OR s.last_success_at < ?)
                  AND (s.last_attempt_at IS NULL OR s.last_attempt_at < ?)
                ORDER BY s.last_success_at LIMIT ?
                """, .time(now), lastSuccess, lastAttempt, cap
            ).map { DueWork.TokenRef(tenantID: TenantID(try $0.uuid(0)), tokenID: TokenID(try $0.uuid(1))) }
            work.eventPolls = try await connection.query(
                "SELECT DISTINCT tenant_id FROM pending_events WHERE next_poll_at <= ? LIMIT ?", .time(now), cap
            ).map { TenantID(try $0.uuid(0)) }
            work.noticePlans = try await connection.query(
                """
                SELECT DISTINCT t.tenant_id FROM tokens t JOIN tenants n ON n.tenant_id = t.tenant_id
                LEFT JOIN token_sync s ON s.tenant_id = t.tenant_id AND s.token_id = t.token_id
                WHERE t.recipients <> '[]' AND (t.expires_at < ? OR t.revoked_at IS NOT NULL OR t.invalid_since IS NOT NULL
                    OR (t.holder_id IS NOT NULL AND t.holder_id <> n.holder_id) OR s.failures >= 3)
                LIMIT ?
                """, soon, cap
            ).map { TenantID(try $0.uuid(0)) }
            work.noticeDeliveries = try await connection.query(
                "SELECT DISTINCT tenant_id FROM notices WHERE sent_at IS NULL AND next_attempt_at <= ? LIMIT ?", .time(now), cap
            ).map { TenantID(try $0.uuid(0)) }
            return work
        }
    }
}
