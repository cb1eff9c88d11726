import Foundation
import Testing
import VPPAppleClient
import VPPAppleSimulator
import VPPDomain
import VPPUseCases

@Suite("Apple client ↔ simulator: paged walks")
struct PagingTests {
    static let manyAssets: [SimAsset] = (0..<50).map { i in
        SimAsset(
            adamId: "\(100_000 + i)",
            productType: i % 10 == 0 ? "Book" : "App",
            totalCount: 10 + i,
            deviceAssignable: i % 10 != 0,
            revocable: i % 7 != 0
        )
    }

    @Test("walks every asset page following nextPageIndex; filters reach Apple")
    func assetWalk() async throws {
        try await withBench(assets: Self.manyAssets, settings: { $0.pageSize = 7 }) { bench in
            let walk = try await bench.client.assets(bench.credentials, filter: AppleAssetFilter())
            #expect(walk.items.count == 50 && walk.pagesFetched == 8 && walk.restarts == 0)
            #expect(walk.items.map(\.asset.key.adamID) == Self.manyAssets.map(\.adamId), "pages are stitched in order")
            let books = try await bench.client.assets(bench.credentials, filter: AppleAssetFilter(productType: .book))
            #expect(
                books.items.count == 5
                    && books.items.allSatisfy { $0.asset.productType == .book && !$0.asset.isDeviceAssignable }
            )
            let big = try await bench.client.assets(bench.credentials, filter: AppleAssetFilter(minAvailableCount: 55))
            #expect(big.items.map(\.counts.available).allSatisfy { $0 >= 55 } && big.items.count == 5)
            let one = try await bench.client.assets(
                bench.credentials,
                filter: AppleAssetFilter(adamID: "100003", revocable: true)
            )
            let expectedCounts = try LicenceCounts(total: 13, assigned: 0, available: 13)
            #expect(one.items.count == 1 && one.items.first?.counts == expectedCounts)
        }
    }

    @Test("an empty location is one page with nothing on it")
    func emptyWalk() async throws {
        try await withBench(assets: []) { bench in
            let walk = try await bench.client.assets(bench.credentials, filter: AppleAssetFilter())
            #expect(walk.items.isEmpty && walk.pagesFetched == 1)
        }
    }

    @Test("a versionId change mid-walk restarts the walk and returns one consistent view")
    func versionChangeRestarts() async throws {
        try await withBench(assets: Self.manyAssets, settings: { $0.pageSize = 10 }) { bench in
            await bench.simulator.injectFault(
                SimulatorFault(kind: .slow, count: 1, pathContains: "pageIndex=3", delayMilliseconds: 1500)
            )
            async let walk = bench.client.assets(bench.credentials, filter: AppleAssetFilter())
            // Change the data once page 0 has been read and the slow page 3 is in flight (not by a fixed sleep).
            for _ in 0..<500 where await bench.simulator.requestCount("assets") < 4 {
                try await Task.sleep(for: .milliseconds(5))
            }
            try await bench.simulator.upsertAsset(SimAsset(adamId: "999999", totalCount: 1), at: bench.locationUID)
            let result = try await walk
            #expect(result.restarts == 1)
            #expect(result.items.count == 51 && result.items.last?.asset.key.adamID == "999999")
        }
    }

    @Test("assignments: full walk, then only what changed with sinceVersionId; a stale versionId is typed")
    func incrementalAssignments() async throws {
        try await withBench(settings: { $0.pageSize = 25 }) { bench in
            try await bench.simulator.seedAssignments(
                adamId: "408709785",
                serialNumbers: serials(60),
                at: bench.locationUID
            )
            let full = try await bench.client.assignments(bench.credentials, filter: AppleAssignmentFilter())
            #expect(full.items.count == 60 && full.pagesFetched == 3)
            #expect(
                full.items.first
                    == AppleAssignmentRecord(
                        asset: AssetKey(adamID: "408709785"),
                        assignee: .serialNumber("SN00000000")
                    )
            )
            let tickets = try await bench.client.associate(
                bench.credentials,
                assets: [AssetKey(adamID: "408709785")],
                serialNumbers: serials(3, prefix: "NEW"),
                clientUserIDs: []
            )
            #expect(try await bench.waitForEvent(tickets[0].eventID).state == .complete)
            let delta = try await bench.client.assignments(
                bench.credentials,
                filter: AppleAssignmentFilter(sinceVersionID: full.versionID)
            )
            #expect(delta.items.map(\.assignee) == serials(3, prefix: "NEW").map { .serialNumber($0) })
            let nothing = try await bench.client.assignments(
                bench.credentials,
                filter: AppleAssignmentFilter(sinceVersionID: delta.versionID)
            )
            #expect(nothing.items.isEmpty && nothing.pagesFetched == 1)
            await #expect(throws: AppleAPIError.badVersionID) {
                _ = try await bench.client.assignments(
                    bench.credentials,
                    filter: AppleAssignmentFilter(sinceVersionID: "no-such-version")
                )
            }
            let filtered = try await bench.client.assignments(
                bench.credentials,
                filter: AppleAssignmentFilter(serialNumber: "SN00000007")
            )
            #expect(filtered.items.count == 1)
        }
    }

    @Test("a walk repeated after assignments change sees the change (the simulator's walk cache is not stale)")
    func repeatedWalkSeesWrites() async throws {
        try await withBench(settings: { $0.pageSize = 25 }) { bench in
            try await bench.simulator.seedAssignments(
                adamId: "408709785",
                serialNumbers: serials(60),
                at: bench.locationUID
            )
            let first = try await bench.client.assignments(bench.credentials, filter: AppleAssignmentFilter())
            #expect(first.items.count == 60)
            try await bench.simulator.seedAssignments(
                adamId: "408709785",
                serialNumbers: serials(5, prefix: "MORE"),
                at: bench.locationUID
            )
            let second = try await bench.client.assignments(bench.credentials, filter: AppleAssignmentFilter())
            #expect(second.items.count == 65)
            let tickets = try await bench.client.disassociate(
                bench.credentials,
                assets: [AssetKey(adamID: "408709785")],
                serialNumbers: serials(5, prefix: "MORE"),
                clientUserIDs: []
            )
            #expect(try await bench.waitForEvent(tickets[0].eventID).state == .complete)
            let third = try await bench.client.assignments(bench.credentials, filter: AppleAssignmentFilter())
            #expect(third.items.count == 60)
        }
    }

    @Test("a rate-limited walk (simulator at 15 rps) completes without a single 429")
    func rateLimitedWalk() async throws {
        try await withBench(
            assets: Self.manyAssets,
            settings: {
                $0.pageSize = 2
                $0.requestsPerSecond = 15
            }
        ) { bench in
            let started = ContinuousClock.now
            let walk = try await bench.client.assets(bench.credentials, filter: AppleAssetFilter())
            let elapsed = ContinuousClock.now - started
            #expect(walk.items.count == 50 && walk.pagesFetched == 25)
            #expect(await bench.simulator.rateLimitedCount == 0)
            #expect(elapsed >= .seconds(1.4), "25 pages at 15 per second cannot take less than ~1.6 s; took \(elapsed)")
        }
    }

    @Test("when Apple's limiter is stricter than announced, 429/9646 answers are retried with back-off")
    func recoversFrom429() async throws {
        try await withBench(
            assets: Self.manyAssets,
            settings: {
                $0.pageSize = 5
                $0.requestsPerSecond = 4
            },
            client: {
                $0.maxAttempts = 10
                $0.maxBackoff = .milliseconds(500)
            }
        ) { bench in
            let walk = try await bench.client.assets(bench.credentials, filter: AppleAssetFilter())
            #expect(walk.items.count == 50)
            #expect(await bench.simulator.rateLimitedCount > 0, "the test must actually provoke 429s")
        }
    }
}
