import Foundation
import VPPDomain
import VPPUseCases

/// The job queue on a table: claims take leases with `FOR UPDATE SKIP LOCKED` (PostgreSQL), so workers on
/// any number of servers never claim the same job; an expired lease makes the job claimable again.
struct SQLJobQueue: JobQueue {
    let database: any SQLDatabase

    /// A job already queued for later (never tried, not claimed) is brought forward to the earlier time: the
    /// intent pump queues its tenant's event poll 5 minutes ahead, and a poll asked for now (events due after
    /// an outage, a refused notification) must not wait behind it. A job backing off after a failure keeps
    /// its time.
    func enqueue(_ job: JobRequest) async throws -> Bool {
        try await enqueue([job]) > 0
    }

    /// Many jobs in multi-row statements, a transaction per chunk (so the rows a chunk locks are held briefly),
    /// sorted by (tenant, kind, key): two replicas queuing the same jobs lock the rows in the same order, the
    /// usual guard against their waiting on each other in a cycle.
    func enqueue(_ jobs: [JobRequest]) async throws -> Int {
        var earliest: [JobIdentity: Date] = [:]
        for job in jobs {
            let identity = JobIdentity(tenantID: job.tenantID, kind: job.kind.rawValue, key: job.key.rawValue)
            earliest[identity] = min(earliest[identity] ?? job.runAt, job.runAt)
        }
        let ordered = earliest.sorted { $0.key < $1.key }
        let perStatement = max(1, min(500, database.dialect.maxBindsPerStatement / 6))
        var queued = 0
        for start in stride(from: 0, to: ordered.count, by: perStatement) {
            let rows: [SQLQuery] = ordered[start..<min(start + perStatement, ordered.count)].map { identity, runAt in
                "(\(identity.tenantID), \(UUID()), \(identity.kind), \(identity.key), \(runAt), 0)"
            }
            queued += try await database.translatingTransaction { connection in
                try await connection.query(
                    """
                    INSERT INTO jobs (tenant_id, job_id, kind, job_key, run_at, attempts)
                    VALUES \(fragment: .joined(rows, separator: ","))
                    ON CONFLICT (tenant_id, kind, job_key) DO UPDATE SET run_at = excluded.run_at
                    WHERE jobs.run_at > excluded.run_at AND jobs.attempts = 0 AND jobs.lease_until IS NULL
                    RETURNING job_id
                    """
                ).count
            }
        }
        return queued
    }

    /// What makes a queued job unique (the table's key), ordered for locking.
    private struct JobIdentity: Hashable, Comparable {
        let tenantID: TenantID
        let kind: String
        let key: String

        static func < (lhs: Self, rhs: Self) -> Bool {
            (lhs.tenantID.description, lhs.kind, lhs.key) < (rhs.tenantID.description, rhs.kind, rhs.key)
        }
    }

    /// Claims due jobs round-robin across tenants (each tenant's oldest first, then each one's second, …), so a
    /// tenant with a hundred due syncs cannot starve the others.
    ///
    /// Turn by turn: each pass claims the oldest due job of as many tenants as the batch has room for, walking
    /// the due jobs oldest first (the `jobs_due` index) and keeping a job only when no claimable job of its
    /// tenant comes before it; the next pass finds each tenant's next job (the ones just claimed are leased).
    /// A pass reads about as many rows as it claims (plus jobs in flight and a busy tenant's backlog), never
    /// the whole queue: ranking every due job per claim cost 50 ms at 10,000 due jobs and grew with the queue.
    /// On PostgreSQL a last pass takes any due job oldest first: a tenant whose oldest job another replica has
    /// locked (not yet committed) has no "first" job for this claimer, and its other jobs must not wait for that.
    func claim(owner: String, now: Date, lease: TimeInterval, limit: Int) async throws -> [ClaimedJob] {
        let leaseUntil = now.addingTimeInterval(lease)
        let lockForClaim = database.dialect.skipLocked.isEmpty ? "" : "FOR UPDATE OF j SKIP LOCKED"
        let claimable: SQLQuery = "j.run_at <= \(now) AND (j.lease_until IS NULL OR j.lease_until < \(now))"
        // No claimable job of the same tenant comes before `j` (ties broken by id).
        let oldestOfItsTenant: SQLQuery = """
            AND NOT EXISTS (
                SELECT 1 FROM jobs o
                WHERE o.tenant_id = j.tenant_id AND o.run_at <= j.run_at
                AND (o.run_at < j.run_at OR o.job_id < j.job_id)
                AND (o.lease_until IS NULL OR o.lease_until < \(now)))
            """
        return try await database.translatingTransaction { connection in
            func pass(_ condition: SQLQuery, room: Int) async throws -> [ClaimedJob] {
                try await connection.query(
                    """
                    UPDATE jobs SET lease_owner = \(owner), lease_until = \(leaseUntil), attempts = attempts + 1
                    WHERE (tenant_id, job_id) IN (
                        SELECT j.tenant_id, j.job_id FROM jobs j WHERE \(fragment: claimable) \(fragment: condition)
                        -- Checked again on the locked row (a claim that committed meanwhile has taken it); the
                        -- LIMIT applies after locked rows are skipped, so concurrent claimers fill their batches.
                        ORDER BY j.run_at LIMIT \(room) \(unescaped: lockForClaim))
                    RETURNING tenant_id, job_id, kind, job_key, attempts, run_at
                    """
                ).map { row in
                    (
                        runAt: try row.decode("run_at", as: Int64.self),
                        job: ClaimedJob(
                            id: try row.decode("job_id"),
                            tenantID: try row.decode("tenant_id"),
                            kind: try Self.kind(try row.decode("kind")),
                            key: JobKey(rawValue: try row.decode("job_key")),
                            attempts: try row.decode("attempts"),
                            leaseOwner: owner,
                            leaseUntil: leaseUntil
                        )
                    )
                }
                // RETURNING has no order: this pass's jobs oldest first, after the earlier passes'.
                .sorted { $0.runAt < $1.runAt }.map(\.job)
            }
            var claimed: [ClaimedJob] = []
            while claimed.count < limit {
                let turn = try await pass(oldestOfItsTenant, room: limit - claimed.count)
                if turn.isEmpty { break }
                claimed += turn
            }
            if claimed.count < limit && !lockForClaim.isEmpty {
                claimed += try await pass("", room: limit - claimed.count)
            }
            return claimed
        }
    }

    func complete(_ job: ClaimedJob) async throws -> Bool {
        try await database.translatingTransaction { connection in
            try await !connection.query(
                """
                DELETE FROM jobs WHERE tenant_id = \(job.tenantID) AND job_id = \(job.id)
                AND lease_owner = \(job.leaseOwner) AND lease_until = \(job.leaseUntil) RETURNING job_id
                """
            ).isEmpty
        }
    }

    func retry(_ job: ClaimedJob, at retryAt: Date, error: String) async throws {
        _ = try await database.translatingTransaction { connection in
            try await connection.query(
                """
                UPDATE jobs SET run_at = \(retryAt), lease_owner = NULL, lease_until = NULL,
                    last_error = \(String(error.prefix(500)))
                WHERE tenant_id = \(job.tenantID) AND job_id = \(job.id) AND lease_owner = \(job.leaseOwner)
                """
            )
        }
    }

    /// A stored kind this build does not know (a newer replica's job) is an error, never a guess.
    static func kind(_ stored: String) throws -> JobKind {
        guard let kind = JobKind(rawValue: stored) else { throw StoreError.unreadable("job kind \(stored)") }
        return kind
    }

    func depth() async throws -> Int {
        try await database.translatingTransaction { connection in
            try await connection.query("SELECT count(*) AS depth FROM jobs").first?.decode("depth") ?? 0
        }
    }
}

extension SQLDatabase {
    /// ``transaction(_:)`` with the driver's failures reported as the store reports them (an unavailable
    /// database is ``StoreError/unavailable(_:)``, answered 503), for the store's parts that bypass `SQLStore.run`.
    func translatingTransaction<T: Sendable>(
        _ body: @Sendable (any SQLConnection) async throws -> T
    ) async throws -> T {
        do {
            return try await transaction(body)
        } catch let error as SQLDriverError {
            throw SQLStore.translate(error)
        }
    }
}
