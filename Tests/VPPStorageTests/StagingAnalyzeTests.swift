import Foundation
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

/// `ANALYZE sync_staging` holds its lock on the shared staging table until its transaction ends, and a second
/// ANALYZE waits for it: when every merge analysed, every tenant's sync waited for the one before it (10,000
/// tenants' due syncs: 347 of 350 samples of `pg_stat_activity` were merges waiting on that lock).
@Suite("Merging a sync's staged rows: statistics only for a large load")
struct StagingAnalyzeTests {
    static func stageAndMerge(_ tx: any TenantTransaction, _ token: TokenID, devices: Range<Int>) async throws {
        let syncID = UUID()
        let records = devices.map {
            AppleAssignmentRecord(asset: keynote.key, assignee: .serialNumber(serial($0).value))
        }
        try await tx.stageAppleAssignments(syncID: syncID, tokenID: token, records)
        _ = try await tx.mergeStagedAssignments(syncID: syncID, tokenID: token, fullSnapshot: false)
    }

    @Test(
        "a small merge does not wait for another tenant's open merge, and a large one still refreshes the statistics",
        arguments: StoreKind.allCases.filter { $0 == .postgres }
    )
    func smallMergesRunSideBySide(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (first, firstToken) = try await seedTenant(sut.store, name: "First")
            let (second, secondToken) = try await seedTenant(sut.store, name: "Second")
            let besideOpenMerge = try await finishesBesideOpenTransaction(
                sut,
                tenant: first.id,
                holding: { tx in try await Self.stageAndMerge(tx, firstToken.id, devices: 0..<3) },
                beside: { other in
                    try await other.inTenant(second.id) { tx in
                        try await Self.stageAndMerge(tx, secondToken.id, devices: 0..<3)
                    }
                }
            )
            #expect(besideOpenMerge, "the second tenant's merge waited for the first's commit")

            // A load above the threshold is still analysed (a first sync of 20,000 assignments needs it).
            func analyses() async throws -> Int64 {
                try await sut.raw(
                    "SELECT analyze_count AS n FROM pg_stat_user_tables WHERE relname = 'sync_staging'"
                ).first?.decode("n", as: Int64.self) ?? 0
            }
            let before = try await analyses()
            try await sut.store.inTenant(first.id) { tx in
                try await Self.stageAndMerge(tx, firstToken.id, devices: 10..<1_200)
            }
            var after = try await analyses()
            for _ in 0..<20 where after == before {
                try await Task.sleep(for: .milliseconds(100))
                after = try await analyses()
            }
            #expect(after > before, "a merge of 1,190 staged rows refreshed the statistics")
        }
    }
}
