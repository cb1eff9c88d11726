import Foundation
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

/// Leases (one worker per token's sync, per app's Apple intents) on both databases: taken when free or expired,
/// never while held; and a refused attempt writes nothing (the intent pumps of two replicas try the same lease
/// after every reservation batch, mostly while the other one holds it).
@Suite("Storage contract: leases (PostgreSQL and SQLite)")
struct LeaseTests {
    @Test(
        "a held lease is refused to everyone, an expired one is taken over; a refusal leaves the row unwritten",
        arguments: StoreKind.allCases
    )
    func heldExpiredAndRefused(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, _) = try await seedTenant(sut.store)
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            func acquire(_ owner: String, at: Date) async throws -> Bool {
                try await sut.store.acquireLease(tenant: tenant.id, name: "intents:x", owner: owner, now: at, ttl: 30)
            }
            #expect(try await acquire("a", at: now), "free: taken")
            let version = try await rowVersion(sut)
            #expect(try await !acquire("b", at: now.addingTimeInterval(10)), "held: refused")
            #expect(try await !acquire("a", at: now.addingTimeInterval(10)), "held: refused to its owner too")
            if let version {
                #expect(try await rowVersion(sut) == version, "a refused attempt locked (wrote) the lease's row")
            }
            #expect(try await acquire("b", at: now.addingTimeInterval(31)), "expired: taken over")
            #expect(try await !acquire("a", at: now.addingTimeInterval(32)))
        }
    }

    /// PostgreSQL's `xmin` and `xmax` of the lease row (a row lock sets `xmax`); nil on SQLite.
    func rowVersion(_ sut: StoreUnderTest) async throws -> String? {
        guard sut.kind == .postgres else { return nil }
        let rows = try await sut.raw("SELECT xmin::text || '/' || xmax::text AS version FROM leases")
        return try rows.first?.decode("version", as: String.self)
    }
}
