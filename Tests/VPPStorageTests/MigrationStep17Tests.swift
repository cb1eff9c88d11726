import Foundation
import Testing
import VPPDomain
import VPPSQLStore
import VPPTestSupport
import VPPUseCases

@Suite("Migration 0017")
struct MigrationStep17Tests {
    @Test(
        "0016 → 0017: lease rows leave the job queue, the jobs stay, and leases work in their own table",
        arguments: StoreKind.allCases
    )
    func step17(kind: StoreKind) async throws {
        try await withStore(kind, upTo: 16) { sut in
            let tenant = makeTenant("Acme")
            try await sut.store.createTenant(tenant)
            // A lease as 0016's store kept it: a jobs row of kind 'lease' that no worker claims.
            _ = try await sut.raw(
                """
                INSERT INTO jobs (tenant_id, job_id, kind, job_key, run_at, attempts, lease_owner, lease_until)
                VALUES (\(tenant.id), \(UUID()), 'lease', 'sync:t', \(Int64.max / 4), 0, 'a', \(now.addingTimeInterval(60)))
                """
            )
            #expect(
                try await sut.store.jobs.enqueue(
                    JobRequest(tenantID: tenant.id, kind: .sync, key: JobKey(rawValue: "t"), runAt: now)
                )
            )
            try await MigrationStepTests.migrateRest(sut)

            let kinds = try await sut.raw("SELECT kind FROM jobs").map { try $0.decode("kind", as: String.self) }
            #expect(kinds == [JobKind.sync.rawValue], "the lease row is gone, the queued sync stays")
            #expect(try await sut.store.jobs.depth() == 1)

            // Free, so taken; held, so refused to another owner until it expires; renewed only by its owner.
            let name = "sync:t"
            #expect(try await sut.store.acquireLease(tenant: tenant.id, name: name, owner: "a", now: now, ttl: 60))
            #expect(try await !sut.store.acquireLease(tenant: tenant.id, name: name, owner: "b", now: now, ttl: 60))
            #expect(try await !sut.store.renewLease(tenant: tenant.id, name: name, owner: "b", now: now, ttl: 60))
            #expect(try await sut.store.renewLease(tenant: tenant.id, name: name, owner: "a", now: now, ttl: 120))
            let later = now.addingTimeInterval(90)
            #expect(
                try await !sut.store.acquireLease(tenant: tenant.id, name: name, owner: "b", now: later, ttl: 60),
                "renewed to 120 s, so still held at 90 s"
            )
            // Releasing someone else's lease does nothing; the owner's release frees it at once.
            try await sut.store.releaseLease(tenant: tenant.id, name: name, owner: "b")
            #expect(try await !sut.store.acquireLease(tenant: tenant.id, name: name, owner: "b", now: later, ttl: 60))
            try await sut.store.releaseLease(tenant: tenant.id, name: name, owner: "a")
            #expect(try await sut.store.acquireLease(tenant: tenant.id, name: name, owner: "b", now: later, ttl: 60))
            // An expired lease is taken over; leases are per tenant; none of this is a job.
            let expired = now.addingTimeInterval(1_000)
            #expect(try await sut.store.acquireLease(tenant: tenant.id, name: name, owner: "c", now: expired, ttl: 60))
            let other = makeTenant("Other")
            try await sut.store.createTenant(other)
            #expect(try await sut.store.acquireLease(tenant: other.id, name: name, owner: "a", now: expired, ttl: 60))
            #expect(try await sut.store.jobs.depth() == 1)
            #expect(try await sut.raw("SELECT lease_name FROM leases").count == 2)
        }
    }
}
