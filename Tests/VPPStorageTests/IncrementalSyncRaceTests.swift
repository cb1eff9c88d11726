import Foundation
import Synchronization
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

@Suite("Incremental sync of the apps a delta names, racing reservations on two servers")
struct IncrementalSyncRaceTests {
    static let pages = Asset(
        key: AssetKey(adamID: "361309726"),
        productType: .app,
        platforms: [.iOS],
        isDeviceAssignable: true,
        isRevocable: true
    )
    /// Apple's view of Keynote once another MDM took one of its 8 licences (`OUTSIDE01`). `retired` alternates
    /// between syncs so that each one rewrites the counts row (an unchanged row is not written, and would not
    /// show a reservation overwritten by a sync that does not hold the row's lock); it changes no offer.
    static func keynoteAtApple(retired: Int) -> LicenceCounts {
        try! LicenceCounts(total: 8, assigned: 1, available: 7, retired: retired)
    }
    static let outside = AppleAssignmentRecord(asset: keynote.key, assignee: .serialNumber("OUTSIDE01"))

    /// What `SyncToken` does with a delta naming Keynote alone: stage it, lock and reconcile only the apps it names.
    static func partialSync(_ tx: any TenantTransaction, _ token: TokenID, retired: Int = 0) async throws {
        let syncID = UUID()
        try await tx.stageAppleAssignments(syncID: syncID, tokenID: token, [outside])
        let named = try await tx.stagedAssets(syncID: syncID, tokenID: token)
        #expect(named == [keynote.key])
        try await tx.lockCounts(tokenID: token, only: named)
        let merged = try await tx.mergeStagedAssignments(syncID: syncID, tokenID: token, fullSnapshot: false)
        try await tx.replaceCounts(
            tokenID: token,
            [keynote.key: keynoteAtApple(retired: retired)],
            recounting: merged.touched,
            only: named
        )
    }

    @Test(
        "40 reservations of two apps on two servers racing 16 partial syncs of one: exactly each pool, never more",
        arguments: StoreKind.allCases
    )
    func reservationsRacePartialSyncs(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, token) = try await seedTenant(sut.store, licences: 8)
            let second = try await sut.makeSecondStore()
            try await sut.store.inTenant(tenant.id) { tx in
                try await tx.upsertApps([Self.pages])
                try await tx.replaceCounts(tokenID: token.id, [keynote.key: counts(8), Self.pages.key: counts(8)])
                // The outside assignment is known before the race, so Apple's view does not change during it.
                try await Self.partialSync(tx, token.id)
            }
            let results = try await withThrowingTaskGroup(of: (AssetKey, Bool)?.self) { group in
                for i in 0..<40 {
                    let store = i.isMultiple(of: 2) ? sut.store : second
                    let asset = i % 4 < 2 ? keynote.key : Self.pages.key
                    group.addTask {
                        let row = Assignment(
                            tenantID: tenant.id,
                            asset: asset,
                            assignee: .device(serial(i)),
                            grantingToken: token.id
                        )
                        return (
                            asset, try await store.inTenant(tenant.id) { tx in try await tx.reserveLicences([row]) }
                        )
                    }
                }
                for i in 0..<16 {
                    let store = i.isMultiple(of: 2) ? second : sut.store
                    group.addTask {
                        try await store.inTenant(tenant.id) { tx in
                            try await Self.partialSync(tx, token.id, retired: i % 2)
                        }
                        return nil
                    }
                }
                return try await group.reduce(into: [(AssetKey, Bool)]()) { if let r = $1 { $0.append(r) } }
            }
            let granted = Dictionary(grouping: results.filter(\.1), by: \.0).mapValues(\.count)
            #expect(granted[keynote.key] == 7, "Keynote: the 7 Apple has left, no more, no wrong refusal")
            #expect(granted[Self.pages.key] == 8, "Pages, which no delta names: its whole pool")
            try await sut.store.inTenant(tenant.id) { tx in
                let stored = Dictionary(
                    uniqueKeysWithValues: try await tx.counts(tokenID: token.id).map { ($0.asset, $0.counts) }
                )
                #expect(stored[keynote.key]?.assigned == 8 && stored[keynote.key]?.available == 0)
                #expect(stored[Self.pages.key]?.assigned == 8 && stored[Self.pages.key]?.available == 0)
                let holding = try await tx.assignments(AssignmentQuery(states: AssignmentState.Code.holding))
                #expect(holding.filter { $0.asset == keynote.key }.count == 8, "7 reserved and the outside one")
                #expect(holding.filter { $0.asset == Self.pages.key }.count == 8)
            }
        }
    }

    @Test(
        "a partial reconcile leaves the apps it does not name as they are and drops a named app Apple no longer lists",
        arguments: StoreKind.allCases
    )
    func partialLeavesOthers(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, token) = try await seedTenant(sut.store, licences: 8)
            try await sut.store.inTenant(tenant.id) { tx in
                try await tx.upsertApps([Self.pages])
                try await tx.replaceCounts(tokenID: token.id, [keynote.key: counts(8), Self.pages.key: counts(8)])
                // Apple's numbers of Pages moved (a purchase), but the delta names only Keynote: Pages stays.
                try await tx.lockCounts(tokenID: token.id, only: [keynote.key])
                try await tx.replaceCounts(
                    tokenID: token.id,
                    [keynote.key: counts(9)],
                    recounting: [keynote.key],
                    only: [keynote.key]
                )
                var stored = Dictionary(
                    uniqueKeysWithValues: try await tx.counts(tokenID: token.id).map { ($0.asset, $0.counts) }
                )
                #expect(stored[keynote.key]?.total == 9 && stored[keynote.key]?.available == 9)
                #expect(stored[Self.pages.key]?.total == 8, "not named, not touched")
                // A named app Apple no longer lists drops from the token; the others stay.
                try await tx.replaceCounts(tokenID: token.id, [:], recounting: [keynote.key], only: [keynote.key])
                stored = Dictionary(
                    uniqueKeysWithValues: try await tx.counts(tokenID: token.id).map { ($0.asset, $0.counts) }
                )
                #expect(stored[keynote.key] == nil && stored[Self.pages.key]?.total == 8)
            }
        }
    }

    /// Row locks are PostgreSQL's (SQLite has one writer at a time: the race above covers it).
    @Test(
        "a partial sync holds the named app's counts to its commit and no other app's",
        arguments: StoreKind.allCases.filter { $0 == .postgres }
    )
    func locksOnlyNamedApps(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, token) = try await seedTenant(sut.store, licences: 8)
            let second = try await sut.makeSecondStore()
            try await sut.store.inTenant(tenant.id) { tx in
                try await tx.upsertApps([Self.pages])
                try await tx.replaceCounts(tokenID: token.id, [keynote.key: counts(8), Self.pages.key: counts(8)])
            }
            let done = Finished()
            let reserve: @Sendable (AssetKey, Int) -> Task<Bool, any Error> = { asset, device in
                let row = Assignment(
                    tenantID: tenant.id,
                    asset: asset,
                    assignee: .device(serial(device)),
                    grantingToken: token.id
                )
                return Task { [second] in
                    let granted = try await second.inTenant(tenant.id) { tx in try await tx.reserveLicences([row]) }
                    done.times.withLock { $0[asset] = .now }
                    return granted
                }
            }
            let (committing, reservations) = try await sut.store.inTenant(tenant.id) { tx in
                let syncID = UUID()
                try await tx.stageAppleAssignments(syncID: syncID, tokenID: token.id, [Self.outside])
                let named = try await tx.stagedAssets(syncID: syncID, tokenID: token.id)
                try await tx.lockCounts(tokenID: token.id, only: named)
                let reservations = [reserve(keynote.key, 1), reserve(Self.pages.key, 2)]
                // Pages' reservation is not held up by this sync; Keynote's waits for its commit.
                for _ in 0..<100 where done.times.withLock({ $0[Self.pages.key] }) == nil {
                    try await Task.sleep(for: .milliseconds(50))
                }
                try await Task.sleep(for: .milliseconds(300))
                #expect(done.times.withLock { $0[Self.pages.key] } != nil, "Pages reserved while the sync held Keynote")
                #expect(done.times.withLock { $0[keynote.key] } == nil, "Keynote's reservation waits for the sync")
                let merged = try await tx.mergeStagedAssignments(syncID: syncID, tokenID: token.id, fullSnapshot: false)
                try await tx.replaceCounts(
                    tokenID: token.id,
                    [keynote.key: Self.keynoteAtApple(retired: 0)],
                    recounting: merged.touched,
                    only: named
                )
                return (ContinuousClock.now, reservations)
            }
            for reservation in reservations { #expect(try await reservation.value) }
            let keynoteDone = try #require(done.times.withLock { $0[keynote.key] })
            #expect(keynoteDone >= committing, "Keynote was reserved after the sync's numbers were in")
            try await sut.store.inTenant(tenant.id) { tx in
                let stored = Dictionary(
                    uniqueKeysWithValues: try await tx.counts(tokenID: token.id).map { ($0.asset, $0.counts) }
                )
                #expect(stored[keynote.key]?.assigned == 2 && stored[keynote.key]?.available == 6)
                #expect(stored[Self.pages.key]?.assigned == 1 && stored[Self.pages.key]?.available == 7)
            }
        }
    }
}

/// When each reservation returned.
final class Finished: Sendable {
    let times = Mutex<[AssetKey: ContinuousClock.Instant]>([:])
}
