import Foundation
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

/// Apple counts 15,000 licences, 5,000 of them assigned and 10,000 available, while its assignment list shows only
/// a few of the 5,000 (a listing that lags its count, or licences vpp cannot see). vpp must offer Apple's 10,000,
/// never the 15,000 less what it can see.
@Suite("Counts equal Apple's: what Apple counts as assigned but does not list is withheld, never offered")
struct AppleCountsContractTests {
    static let apple = try! LicenceCounts(total: 15_000, assigned: 5_000, available: 10_000)

    static func device(_ i: Int) -> AppleAssignmentRecord {
        AppleAssignmentRecord(asset: keynote.key, assignee: .serialNumber(serial(i).value))
    }

    /// A full sync of `listed` devices with Apple's `counts`, as SyncToken does it (merge, then recount).
    static func sync(
        _ store: some Store,
        _ tenant: TenantID,
        _ token: TokenID,
        listed: ClosedRange<Int>,
        counts: LicenceCounts
    ) async throws {
        try await store.inTenant(tenant) { (tx) async throws in
            try await tx.lockCounts(tokenID: token)
            _ = try await tx.mergeAppleAssignments(tokenID: token, listed.map(Self.device), fullSnapshot: true)
            try await tx.replaceCounts(tokenID: token, [keynote.key: counts])
        }
    }

    static func available(_ store: some Store, _ tenant: TenantID) async throws -> LicenceCounts {
        try await store.inTenant(tenant) { tx in try await tx.counts(asset: keynote.key) }.first!.counts
    }

    static func reserve(
        _ store: some Store,
        _ tenant: TenantID,
        _ token: TokenID,
        _ devices: ClosedRange<Int>
    ) async throws -> [Assignment] {
        try await store.inTenant(tenant) { tx in
            let rows = devices.map {
                Assignment(tenantID: tenant, asset: keynote.key, assignee: .device(serial($0)), grantingToken: token)
            }
            return try await tx.reserveLicences(rows) ? rows : []
        }
    }

    @Test(
        "Apple's 15,000 / 5,000 / 10,000 with 3 listed: 10,000 offered, 9,700 after 300 grants, not one more",
        arguments: StoreKind.allCases
    )
    func countAndListingDisagree(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, token) = try await seedTenant(sut.store, licences: 0)
            try await Self.sync(sut.store, tenant.id, token.id, listed: 1...3, counts: Self.apple)
            let synced = try await Self.available(sut.store, tenant.id)
            #expect(synced.available == 10_000, "Apple's availableCount, not 15,000 less the 3 listed")
            #expect(synced.assigned == 5_000, "what Apple counts as assigned, listed or not")
            #expect(synced.total == 15_000)

            let granted = try await Self.reserve(sut.store, tenant.id, token.id, 1_001...1_300)
            #expect(granted.count == 300)
            #expect(try await Self.available(sut.store, tenant.id).available == 9_700)
            // Apple has 9,700 left: 9,701 more cannot be reserved, 9,700 can.
            #expect(try await Self.reserve(sut.store, tenant.id, token.id, 2_000...11_700).isEmpty)
            #expect(try await Self.reserve(sut.store, tenant.id, token.id, 2_000...11_699).count == 9_700)
            #expect(try await Self.available(sut.store, tenant.id).available == 0)
        }
    }

    @Test(
        "a sync while reservations are in flight subtracts only what Apple has not seen",
        arguments: StoreKind.allCases
    )
    func inFlightReservations(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, token) = try await seedTenant(sut.store, licences: 0)
            try await Self.sync(sut.store, tenant.id, token.id, listed: 1...3, counts: Self.apple)
            _ = try await Self.reserve(sut.store, tenant.id, token.id, 1_001...1_300)
            // Apple has not seen the 300 yet: its numbers are unchanged, and the sync keeps them withheld.
            try await Self.sync(sut.store, tenant.id, token.id, listed: 1...3, counts: Self.apple)
            #expect(try await Self.available(sut.store, tenant.id).available == 9_700)
        }
    }

    @Test("the listing catches up with the count: nothing is counted twice", arguments: StoreKind.allCases)
    func listingCatchesUp(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, token) = try await seedTenant(sut.store, licences: 0)
            try await Self.sync(sut.store, tenant.id, token.id, listed: 1...3, counts: Self.apple)
            let granted = try await Self.reserve(sut.store, tenant.id, token.id, 10_001...10_300)
            _ = try await sut.store.inTenant(tenant.id) { tx in try await tx.move(granted.map(\.id), to: .active) }
            // Apple now counts the 300 (5,300 assigned, 9,700 available) and lists 2,000 of the 5,000 it had.
            let later = try LicenceCounts(total: 15_000, assigned: 5_300, available: 9_700)
            try await Self.sync(
                sut.store,
                tenant.id,
                token.id,
                listed: 1...2_000,
                counts: later
            )
            var seen = try await Self.available(sut.store, tenant.id)
            #expect(seen.available == 9_700)
            #expect(seen.assigned == 5_300)
            // Everything listed: 5,000 of Apple's own plus vpp's 300.
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                try await tx.lockCounts(tokenID: token.id)
                _ = try await tx.mergeAppleAssignments(
                    tokenID: token.id,
                    (1...5_000).map(Self.device) + (10_001...10_300).map(Self.device),
                    fullSnapshot: true
                )
                try await tx.replaceCounts(tokenID: token.id, [keynote.key: later])
            }
            seen = try await Self.available(sut.store, tenant.id)
            #expect(seen.available == 9_700, "the 5,300 listed rows replace the unlisted count, not add to it")
            #expect(seen.assigned == 5_300)
        }
    }

    @Test(
        "an incremental sync recounts an asset whose Apple numbers moved though its listing did not",
        arguments: StoreKind.allCases
    )
    func countsMoveWithoutListing(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, token) = try await seedTenant(sut.store, licences: 0)
            try await Self.sync(sut.store, tenant.id, token.id, listed: 1...3, counts: counts(100, assigned: 3))
            #expect(try await Self.available(sut.store, tenant.id).available == 97)
            // Apple's count rises by 40 that its (incremental) listing does not show yet.
            let settling = try LicenceCounts(total: 100, assigned: 43, available: 57)
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                try await tx.lockCounts(tokenID: token.id)
                let merged = try await tx.mergeAppleAssignments(tokenID: token.id, [], fullSnapshot: false)
                try await tx.replaceCounts(tokenID: token.id, [keynote.key: settling], recounting: merged.touched)
            }
            #expect(try await Self.available(sut.store, tenant.id).available == 57)
        }
    }
}
