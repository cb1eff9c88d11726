import Foundation
import VPPDomain
import VPPUseCases

extension SQLStore {
    public func dueWork(
        now: Date,
        syncInterval: TimeInterval,
        retryAfter: TimeInterval,
        limit: Int
    ) async throws -> DueWork {
        // Each question is one indexed query over all tenants; none walks tenants or tokens one by one.
        let lastSuccess = now.addingTimeInterval(-syncInterval)
        let lastAttempt = now.addingTimeInterval(-retryAfter)
        let soon = now.addingTimeInterval(31 * 86_400)
        return try await run { connection in
            var work = DueWork()
            // From the sync state's index: only tokens whose last success is old enough are read. A token that
            // never synced has its first sync queued by its upload (and a failure records an attempt). A token
            // whose sync is queued already (so queuing it again would change nothing) is left out: otherwise the
            // same first `limit` tokens came back on every pass until they had synced, each queued again.
            work.syncs = try await connection.query(
                """
                SELECT s.tenant_id, s.token_id FROM token_sync s
                JOIN tokens t ON t.tenant_id = s.tenant_id AND t.token_id = s.token_id
                WHERE (s.last_success_at < \(lastSuccess) OR s.last_success_at IS NULL)
                  AND (s.last_attempt_at IS NULL OR s.last_attempt_at < \(lastAttempt))
                  AND t.expires_at > \(now) AND t.revoked_at IS NULL AND t.invalid_since IS NULL
                  AND NOT EXISTS (
                    SELECT 1 FROM jobs j
                    WHERE j.tenant_id = s.tenant_id AND j.kind = \(JobKind.sync.rawValue)
                      AND j.job_key = CAST(s.token_id AS TEXT)
                      AND NOT (j.run_at > \(now) AND j.attempts = 0 AND j.lease_until IS NULL))
                LIMIT \(limit)
                """
            ).map { DueWork.TokenRef(tenantID: try $0.decode("tenant_id"), tokenID: try $0.decode("token_id")) }
            work.eventPolls = try await connection.query(
                "SELECT DISTINCT tenant_id FROM pending_events WHERE next_poll_at <= \(now) LIMIT \(limit)"
            ).map { try $0.decode("tenant_id") }
            // Each from an index: tokens expiring within 31 days (or expired), tokens Apple refused, and tokens
            // failing to sync. A token found held elsewhere queues its tenant's notices when that is learnt.
            var plans = Set<TenantID>()
            for question: SQLQuery in [
                """
                SELECT DISTINCT tenant_id FROM tokens WHERE expires_at < \(soon) AND recipients <> '[]'
                LIMIT \(limit)
                """,
                """
                SELECT DISTINCT tenant_id FROM tokens WHERE revoked_at IS NOT NULL OR invalid_since IS NOT NULL
                LIMIT \(limit)
                """,
                "SELECT DISTINCT tenant_id FROM token_sync WHERE failures >= 3 LIMIT \(limit)",
            ] {
                for row in try await connection.query(question) { plans.insert(try row.decode("tenant_id")) }
            }
            work.noticePlans = plans.sorted { $0.rawValue.uuidString < $1.rawValue.uuidString }
            work.noticeDeliveries = try await connection.query(
                """
                SELECT DISTINCT tenant_id FROM notices WHERE sent_at IS NULL AND next_attempt_at <= \(now)
                LIMIT \(limit)
                """
            ).map { try $0.decode("tenant_id") }
            // Tenants with desired state: the reconciler's periodic sweep (the safety net under its triggers).
            work.scopeSweeps = try await connection.query(
                """
                SELECT tenant_id FROM app_scopes UNION SELECT tenant_id FROM scope_tracking
                UNION SELECT tenant_id FROM app_alerts LIMIT \(limit)
                """
            ).map { try $0.decode("tenant_id") }
            return work
        }
    }
}
