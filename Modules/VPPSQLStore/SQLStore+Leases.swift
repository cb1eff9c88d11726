import Foundation
import VPPDomain
import VPPUseCases

extension SQLStore: Leases {
    public func acquireLease(
        tenant: TenantID,
        name: String,
        owner: String,
        now: Date,
        ttl: TimeInterval
    ) async throws -> Bool {
        // A lease is a row of the jobs table that workers never claim (its run_at is far in the future).
        try await run { connection in
            try await !connection.query(
                """
                INSERT INTO jobs (tenant_id, job_id, kind, job_key, run_at, attempts, lease_owner, lease_until)
                VALUES (
                    \(tenant), \(UUID()), 'lease', \(name), \(Int64.max / 4), 0, \(owner),
                    \(now.addingTimeInterval(ttl)))
                ON CONFLICT (tenant_id, kind, job_key) DO UPDATE SET lease_owner = excluded.lease_owner,
                    lease_until = excluded.lease_until
                WHERE jobs.lease_until < \(now)
                RETURNING job_id
                """
            ).isEmpty
        }
    }

    public func renewLease(
        tenant: TenantID,
        name: String,
        owner: String,
        now: Date,
        ttl: TimeInterval
    ) async throws -> Bool {
        try await run { connection in
            try await !connection.query(
                """
                UPDATE jobs SET lease_until = \(now.addingTimeInterval(ttl))
                WHERE tenant_id = \(tenant) AND kind = 'lease' AND job_key = \(name) AND lease_owner = \(owner)
                RETURNING job_id
                """
            ).isEmpty
        }
    }

    public func releaseLease(tenant: TenantID, name: String, owner: String) async throws {
        _ = try await run { connection in
            try await connection.query(
                """
                DELETE FROM jobs WHERE tenant_id = \(tenant) AND kind = 'lease' AND job_key = \(name)
                AND lease_owner = \(owner)
                """
            )
        }
    }
}
