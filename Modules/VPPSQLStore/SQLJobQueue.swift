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
                VALUES (\(job.tenantID), \(UUID()), \(job.kind.rawValue), \(job.key), \(job.runAt), 0)
                ON CONFLICT (tenant_id, kind, job_key) DO NOTHING RETURNING job_id
                """
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
                UPDATE jobs SET lease_owner = \(owner), lease_until = \(leaseUntil), attempts = attempts + 1
                WHERE (tenant_id, job_id) IN (
                    SELECT j.tenant_id, j.job_id FROM jobs j JOIN (
                        SELECT tenant_id, job_id, row_number() OVER (PARTITION BY tenant_id ORDER BY run_at) AS turn
                        FROM jobs WHERE run_at <= \(now) AND (lease_until IS NULL OR lease_until < \(now))
                    ) due ON due.tenant_id = j.tenant_id AND due.job_id = j.job_id
                    -- Checked again on the locked row (a claim that committed meanwhile has taken it); the LIMIT
                    -- applies after locked rows are skipped, so concurrent claimers fill their batches.
                    WHERE j.run_at <= \(now) AND (j.lease_until IS NULL OR j.lease_until < \(now))
                    ORDER BY due.turn, j.run_at LIMIT \(limit) \(unescaped: lockForClaim))
                RETURNING tenant_id, job_id, kind, job_key, attempts
                """
            ).map { row in
                ClaimedJob(
                    id: try row.decode("job_id"), tenantID: try row.decode("tenant_id"),
                    kind: try Self.kind(try row.decode("kind")), key: try row.decode("job_key"),
                    attempts: try row.decode("attempts"), leaseOwner: owner, leaseUntil: leaseUntil)
            }
        }
    }

    func complete(_ job: ClaimedJob) async throws -> Bool {
        try await database.transaction { connection in
            try await !connection.query(
                """
                DELETE FROM jobs WHERE tenant_id = \(job.tenantID) AND job_id = \(job.id)
                AND lease_owner = \(job.leaseOwner) AND lease_until = \(job.leaseUntil) RETURNING job_id
                """
            ).isEmpty
        }
    }

    func retry(_ job: ClaimedJob, at retryAt: Date, error: String) async throws {
        _ = try await database.transaction { connection in
            try await connection.query(
                """
                UPDATE jobs SET run_at = \(retryAt), lease_owner = NULL, lease_until = NULL,
                    last_error = \(String(error.prefix(500)))
                WHERE tenant_id = \(job.tenantID) AND job_id = \(job.id) AND lease_owner = \(job.leaseOwner)
                """)
        }
    }

    /// A stored kind this build does not know (a newer replica's job) is an error, never a guess.
    static func kind(_ stored: String) throws -> JobKind {
        guard let kind = JobKind(rawValue: stored) else { throw StoreError.unreadable("job kind \(stored)") }
        return kind
    }

    func depth() async throws -> Int {
        try await database.transaction { connection in
            try await connection.query("SELECT count(*) AS depth FROM jobs WHERE kind <> 'lease'").first?.decode(
                "depth")
                ?? 0
        }
    }
}
