import Foundation
import VPPDomain
import VPPUseCases

/// The job queue on a table: claims take leases with `FOR UPDATE SKIP LOCKED` (PostgreSQL), so workers on
/// any number of servers never claim the same job; an expired lease makes the job claimable again.
struct SQLJobQueue: JobQueue {
    let database: any SQLDatabase

    func enqueue(_ job: JobRequest) async throws -> Bool {
        try await database.transaction { connection in
            try await !connection.query(
                """
                INSERT INTO jobs (tenant_id, job_id, kind, job_key, run_at, attempts)
                VALUES (?, ?, ?, ?, ?, 0)
                ON CONFLICT (tenant_id, kind, job_key) DO NOTHING RETURNING job_id
                """,
                .uuid(job.tenantID.rawValue), .uuid(UUID()), .text(job.kind.rawValue), .text(job.key), .time(job.runAt)
            ).isEmpty
        }
    }

    /// Claims due jobs round-robin across tenants (each tenant's oldest first, then each one's second, …), so a
    /// tenant with a hundred due syncs cannot starve the others.
    func claim(owner: String, now: Date, lease: TimeInterval, limit: Int) async throws -> [ClaimedJob] {
        let leaseUntil = now.addingTimeInterval(lease)
        let lockForClaim = database.dialect.skipLocked.isEmpty ? "" : "FOR UPDATE OF j SKIP LOCKED"
        return try await database.transaction { connection in
            try await connection.query(
                """
                UPDATE jobs SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
                WHERE (tenant_id, job_id) IN (
                    SELECT j.tenant_id, j.job_id FROM jobs j JOIN (
                        SELECT tenant_id, job_id, row_number() OVER (PARTITION BY tenant_id ORDER BY run_at) AS turn
                        FROM jobs WHERE run_at <= ? AND (lease_until IS NULL OR lease_until < ?)
                    ) due ON due.tenant_id = j.tenant_id AND due.job_id = j.job_id
                    -- Checked again on the locked row (a claim that committed meanwhile has taken it); the LIMIT
                    -- applies after locked rows are skipped, so concurrent claimers fill their batches.
                    WHERE j.run_at <= ? AND (j.lease_until IS NULL OR j.lease_until < ?)
                    ORDER BY due.turn, j.run_at LIMIT ? \(lockForClaim))
                RETURNING tenant_id, job_id, kind, job_key, attempts
                """,
                .text(owner), .time(leaseUntil), .time(now), .time(now), .time(now), .time(now), .int(Int64(limit))
            ).map { row in
                ClaimedJob(
                    id: try row.uuid(1), tenantID: TenantID(try row.uuid(0)), kind: try Self.kind(try row.text(2)),
                    key: try row.text(3),
                    attempts: try row.int(4), leaseOwner: owner, leaseUntil: leaseUntil)
            }
        }
    }

    func complete(_ job: ClaimedJob) async throws -> Bool {
        try await database.transaction { connection in
            try await !connection.query(
                "DELETE FROM jobs WHERE tenant_id = ? AND job_id = ? AND lease_owner = ? AND lease_until = ? RETURNING job_id",
                .uuid(job.tenantID.rawValue), .uuid(job.id), .text(job.leaseOwner), .time(job.leaseUntil)
            ).isEmpty
        }
    }

    func retry(_ job: ClaimedJob, at retryAt: Date, error: String) async throws {
        _ = try await database.transaction { connection in
            try await connection.query(
                """
                UPDATE jobs SET run_at = ?, lease_owner = NULL, lease_until = NULL, last_error = ?
                WHERE tenant_id = ? AND job_id = ? AND lease_owner = ?
                """,
                .time(retryAt), .text(String(error.prefix(500))), .uuid(job.tenantID.rawValue), .uuid(job.id),
                .text(job.leaseOwner))
        }
    }

    /// A stored kind this build does not know (a newer replica's job) is an error, never a guess.
    static func kind(_ stored: String) throws -> JobKind {
        guard let kind = JobKind(rawValue: stored) else { throw StoreError.unreadable("job kind \(stored)") }
        return kind
    }

    func depth() async throws -> Int {
        try await database.transaction { connection in
            try await connection.query("SELECT count(*) FROM jobs WHERE kind <> 'lease'").first?.int(0) ?? 0
        }
    }
}
