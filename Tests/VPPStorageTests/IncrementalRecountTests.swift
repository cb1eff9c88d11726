import Foundation
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

@Suite("Incremental sync: counts recounted only where the delta touched, equal to a full recount")
struct IncrementalRecountTests {
    static let pages = AssetKey(adamID: "361309726")
    static let numbers = AssetKey(adamID: "361304891")

    static func device(_ i: Int, _ asset: AssetKey) -> AppleAssignmentRecord {
        AppleAssignmentRecord(asset: asset, assignee: .serialNumber(serial(i).value))
    }

    static func reserve(
        _ tx: any TenantTransaction,
        _ tenant: TenantID,
        _ token: TokenID,
        _ asset: AssetKey,
        _ devices: [Int]
    ) async throws -> [Assignment] {
        let rows = devices.map {
            Assignment(tenantID: tenant, asset: asset, assignee: .device(serial($0)), grantingToken: token)
        }
        #expect(try await tx.reserveLicences(rows))
        return rows
    }

    /// Stored `assigned` per token and asset, and the same recounted from the rows holding a licence.
    static func storedAndRecounted(
        _ tx: any TenantTransaction
    ) async throws -> (stored: [String: Int], recounted: [String: Int]) {
        let stored = try await tx.counts(tokenID: nil).reduce(into: [String: Int]()) {
            $0["\($1.tokenID)|\($1.asset)"] = $1.counts.assigned
        }
        var recounted = stored.mapValues { _ in 0 }
        for row in try await tx.assignments(AssignmentQuery(states: AssignmentState.Code.holding)) {
            recounted["\(row.grantingToken)|\(row.asset)", default: 0] += 1
        }
        return (stored, recounted)
    }

    @Test(
        "after an incremental merge the stored counts equal a full recount, also for an asset held on two tokens",
        arguments: StoreKind.allCases
    )
    func incrementalEqualsFull(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, a) = try await seedTenant(sut.store, licences: 50)
            let b = makeToken(tenant.id, location: "2002", name: "North Campus")
            let apps = [Self.pages, Self.numbers].map {
                Asset(key: $0, productType: .app, platforms: [.iOS], isDeviceAssignable: true, isRevocable: true)
            }
            let countsA = [keynote.key: counts(50), Self.pages: counts(50), Self.numbers: counts(50)]
            let countsB = [keynote.key: counts(50)]
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                try await tx.insertToken(b, secret: SealedSecret(keyID: "k1", ciphertext: [1]))
                try await tx.upsertApps(apps)
                try await tx.replaceCounts(tokenID: a.id, countsA)
                try await tx.replaceCounts(tokenID: b.id, countsB)
                // Full snapshots: keynote on both tokens, pages on A.
                _ = try await tx.mergeAppleAssignments(
                    tokenID: a.id,
                    (1...5).map { Self.device($0, keynote.key) } + (6...8).map { Self.device($0, Self.pages) },
                    fullSnapshot: true
                )
                _ = try await tx.mergeAppleAssignments(
                    tokenID: b.id,
                    (10...12).map { Self.device($0, keynote.key) },
                    fullSnapshot: true
                )
                try await tx.replaceCounts(tokenID: a.id, countsA)
                try await tx.replaceCounts(tokenID: b.id, countsB)
                // In flight: device 20 reserved keynote through B; A reserved numbers for 50 and 51; A's
                // reservation of pages for device 30 failed.
                _ = try await Self.reserve(tx, tenant.id, b.id, keynote.key, [20])
                _ = try await Self.reserve(tx, tenant.id, a.id, Self.numbers, [50, 51])
                let failed = try await Self.reserve(tx, tenant.id, a.id, Self.pages, [30])
                try await tx.move(failed.map(\.id), to: .failed(reason: "test"))
            }
            let outcome = try await sut.store.inTenant(tenant.id) { tx in
                // A's delta: device 20 on keynote (held through B: B keeps its one row), device 30 on pages
                // (A's failed row is confirmed), device 40 on keynote (new).
                try await tx.lockCounts(tokenID: a.id)
                let merged = try await tx.mergeAppleAssignments(
                    tokenID: a.id,
                    [Self.device(20, keynote.key), Self.device(30, Self.pages), Self.device(40, keynote.key)],
                    fullSnapshot: false
                )
                try await tx.replaceCounts(tokenID: a.id, countsA, recounting: merged.touched)
                return merged
            }
            #expect(
                outcome.touched == [keynote.key, Self.pages],
                "numbers, which the delta did not touch, is not recounted"
            )
            #expect(outcome.confirmed.count == 1 && outcome.inserted >= 1)
            let incremental = try await sut.store.inTenant(tenant.id) { tx in try await Self.storedAndRecounted(tx) }
            #expect(incremental.stored == incremental.recounted)
            #expect(incremental.stored["\(a.id)|\(keynote.key)"] == 6, "devices 1–5 and 40")
            #expect(incremental.stored["\(a.id)|\(Self.pages)"] == 4, "devices 6–8 and 30")
            #expect(incremental.stored["\(a.id)|\(Self.numbers)"] == 2, "the two reservations")
            #expect(incremental.stored["\(b.id)|\(keynote.key)"] == 4, "devices 10–12 and 20")
            // A full recount of both tokens changes nothing.
            let full = try await sut.store.inTenant(tenant.id) { tx in
                try await tx.lockCounts(tokenID: a.id)
                try await tx.replaceCounts(tokenID: a.id, countsA)
                try await tx.replaceCounts(tokenID: b.id, countsB)
                return try await Self.storedAndRecounted(tx)
            }
            #expect(full.stored == incremental.stored)
        }
    }

    @Test("a full snapshot's merge names no scope: every asset is recounted", arguments: StoreKind.allCases)
    func fullSnapshotRecountsAll(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, token) = try await seedTenant(sut.store, licences: 10)
            let merged = try await sut.store.inTenant(tenant.id) { tx in
                try await tx.mergeAppleAssignments(tokenID: token.id, [Self.device(1, keynote.key)], fullSnapshot: true)
            }
            #expect(merged.touched == nil)
        }
    }
}
