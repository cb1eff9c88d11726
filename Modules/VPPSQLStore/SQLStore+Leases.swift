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
        // Taken when free or expired; a lease still held (by anyone, this owner too) is not taken again. A lease
        // seen held is left before the upsert: its ON CONFLICT would lock the row even when it changes nothing,
        // making every refused attempt a write and a commit to disk (the intent pump of each replica tries the
        // group's lease after every reservation batch, mostly while the other replica holds it).
        try await run { connection in
            try await !connection.query(
                """
                INSERT INTO leases (tenant_id, lease_name, owner, held_until)
                SELECT column1, column2, column3, column4
                FROM (VALUES (\(tenant), \(name), \(owner), \(now.addingTimeInterval(ttl)))) AS wanted
                WHERE NOT EXISTS (
                    SELECT 1 FROM leases l WHERE l.tenant_id = wanted.column1 AND l.lease_name = wanted.column2
                    AND l.held_until >= \(now))
                ON CONFLICT (tenant_id, lease_name) DO UPDATE SET owner = excluded.owner,
                    held_until = excluded.held_until
                WHERE leases.held_until < \(now)
                RETURNING lease_name
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
                UPDATE leases SET held_until = \(now.addingTimeInterval(ttl))
                WHERE tenant_id = \(tenant) AND lease_name = \(name) AND owner = \(owner)
                RETURNING lease_name
                """
            ).isEmpty
        }
    }

    public func releaseLease(tenant: TenantID, name: String, owner: String) async throws {
        _ = try await run { connection in
            try await connection.query(
                "DELETE FROM leases WHERE tenant_id = \(tenant) AND lease_name = \(name) AND owner = \(owner)"
            )
        }
    }
}
