import Foundation
import Testing
import VPPAppleSimulator
import VPPDomain
import VPPTestSupport
import VPPUseCases

@Suite("Incremental sync follows the change: only the apps its delta names (simulator over HTTP, real store)")
struct IncrementalSyncTests {
    static let pagesSim = SimAsset(adamId: "361309726", totalCount: 10)
    static let numbersSim = SimAsset(adamId: "361304891", totalCount: 10)

    static func stored(_ world: World, _ token: TokenID) async throws -> [AssetKey: LicenceCounts] {
        try await world.store.inTenant(world.tenant.id) { tx in
            Dictionary(uniqueKeysWithValues: try await tx.counts(tokenID: token).map { ($0.asset, $0.counts) })
        }
    }

    @Test(
        "a delta naming one app reads that app alone; the whole catalogue is read again the next period",
        arguments: StoreKind.allCases
    )
    func readsNamedApps(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (file, uid) = try await world.location("A", assets: [keynoteSim, Self.pagesSim, Self.numbersSim])
            let token = try #require(try await world.useCases.uploadToken(world.admin, file: file).token)
            let sync = world.useCases.syncToken.cataloguing(every: 3_600)
            // Another MDM takes a Keynote licence; Pages gains 10 licences with no ASSET_COUNT.
            try await world.simulator.seedAssignments(adamId: keynoteSim.adamId, serialNumbers: ["OUTSIDE01"], at: uid)
            var pages = Self.pagesSim
            pages.totalCount = 20
            try await world.simulator.upsertAssets([pages], at: uid)
            await world.simulator.resetRequestCounts()
            let report = try await sync(world.admin, tokenID: token.id, catalogue: .whenDue)
            #expect(report.incremental && !report.catalogue && report.inserted == 1)
            #expect(await world.simulator.requestCount("assets") == 1, "one GET assets?adamId= for Keynote")
            var counts = try await Self.stored(world, token.id)
            #expect(counts[keynoteSim.key]?.assigned == 1 && counts[keynoteSim.key]?.available == 4)
            #expect(counts[Self.pagesSim.key]?.total == 10, "Pages was not named, so not read")
            #expect(counts[Self.numbersSim.key]?.total == 10)

            // Nothing changed: no asset is read at all.
            await world.simulator.resetRequestCounts()
            let quiet = try await sync(world.admin, tokenID: token.id, catalogue: .whenDue)
            #expect(quiet.incremental && !quiet.catalogue && quiet.inserted == 0)
            #expect(await world.simulator.requestCount("assets") == 0)

            // The next catalogue period: the whole list again, and Pages' purchase shows.
            world.clock.advance(days: 1)
            let next = try await sync(world.admin, tokenID: token.id, catalogue: .whenDue)
            #expect(next.incremental && next.catalogue)
            counts = try await Self.stored(world, token.id)
            #expect(counts[Self.pagesSim.key]?.total == 20 && counts[Self.pagesSim.key]?.available == 20)
            #expect(counts[keynoteSim.key]?.assigned == 1 && counts[keynoteSim.key]?.available == 4)
        }
    }

    @Test(
        "a delta naming more apps than one request each is worth reads the whole catalogue",
        arguments: StoreKind.allCases
    )
    func longDeltaReadsCatalogue(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (file, uid) = try await world.location("A", assets: [keynoteSim, Self.pagesSim, Self.numbersSim])
            let token = try #require(try await world.useCases.uploadToken(world.admin, file: file).token)
            let sync = world.useCases.syncToken.cataloguing(every: 3_600, maxAppReads: 1)
            try await world.simulator.seedAssignments(adamId: keynoteSim.adamId, serialNumbers: ["OUTSIDE01"], at: uid)
            try await world.simulator.seedAssignments(
                adamId: Self.pagesSim.adamId,
                serialNumbers: ["OUTSIDE02"],
                at: uid
            )
            let report = try await sync(world.admin, tokenID: token.id, catalogue: .whenDue)
            #expect(report.incremental && report.catalogue && report.inserted == 2)
            let counts = try await Self.stored(world, token.id)
            #expect(counts[keynoteSim.key]?.available == 4 && counts[Self.pagesSim.key]?.available == 9)
            #expect(counts.count == 3)
        }
    }

    @Test("a sync a person asks for reads the whole catalogue, whatever the period", arguments: StoreKind.allCases)
    func askedSyncReadsCatalogue(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (file, uid) = try await world.location("A", assets: [keynoteSim, Self.pagesSim])
            let token = try #require(try await world.useCases.uploadToken(world.admin, file: file).token)
            var pages = Self.pagesSim
            pages.totalCount = 20
            try await world.simulator.upsertAssets([pages], at: uid)
            let report = try await world.useCases.syncToken(world.admin, tokenID: token.id)
            #expect(report.incremental && report.catalogue)
            #expect(try await Self.stored(world, token.id)[Self.pagesSim.key]?.total == 20)
        }
    }
}
