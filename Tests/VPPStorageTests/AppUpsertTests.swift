import Foundation
import Testing
import VPPDomain
import VPPSQLStore
import VPPTestSupport
import VPPUseCases

/// Every sync sends Apple's whole catalogue to `upsertApps`: what changed is written, what did not is left alone
/// (rewriting every row made an incremental sync grow with the number of apps).
@Suite("Storage contract: a sync's app upsert writes only what changed (PostgreSQL and SQLite)")
struct AppUpsertTests {
    static func app(_ adamID: String, revocable: Bool = true, platforms: Set<Platform> = [.iOS]) -> Asset {
        Asset(
            key: AssetKey(adamID: adamID),
            productType: .app,
            platforms: platforms,
            isDeviceAssignable: true,
            isRevocable: revocable
        )
    }

    @Test("a changed app is updated, an unchanged one keeps its row, a new one is added", arguments: StoreKind.allCases)
    func writesWhatChanged(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, _) = try await seedTenant(sut.store)
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                try await tx.upsertApps([Self.app("600001"), Self.app("600002")])
            }
            let versionBefore = try await rowVersion(sut, kind, "600002")
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                try await tx.upsertApps([
                    Self.app("600001", revocable: false, platforms: [.iOS, .macOS]), Self.app("600002"),
                    Self.app("600003"),
                ])
            }
            let apps = try await sut.store.inTenant(tenant.id) { tx in try await tx.apps() }
            let byID = Dictionary(uniqueKeysWithValues: apps.map { ($0.asset.key.adamID, $0.asset) })
            #expect(byID["600001"] == Self.app("600001", revocable: false, platforms: [.iOS, .macOS]))
            #expect(byID["600002"] == Self.app("600002") && byID["600003"] == Self.app("600003"))
            if let versionBefore {
                #expect(try await rowVersion(sut, kind, "600002") == versionBefore, "the unchanged row was rewritten")
            }
        }
    }

    /// Every token of a tenant lists the same apps: an upsert that leaves them as they are must take no lock on
    /// them, or the tenant's syncs queue one behind another (a tenant with 100 tokens: 75 ms per upsert).
    @Test(
        "upserting apps that did not change takes no lock: another sync of the tenant does not wait for it",
        arguments: StoreKind.allCases.filter { $0 == .postgres }
    )
    func unchangedAppsAreNotLocked(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, _) = try await seedTenant(sut.store)
            let catalogue = [Self.app("600001"), Self.app("600002")]
            try await sut.store.inTenant(tenant.id) { (tx) async throws in try await tx.upsertApps(catalogue) }
            let besideOpenSync = try await finishesBesideOpenTransaction(
                sut,
                tenant: tenant.id,
                holding: { tx in try await tx.upsertApps(catalogue) },
                beside: { other in
                    try await other.inTenant(tenant.id) { (tx) async throws in try await tx.upsertApps(catalogue) }
                }
            )
            #expect(besideOpenSync, "the second upsert of unchanged apps waited for the first transaction's commit")
        }
    }

    /// PostgreSQL's row version (`xmin` changes with every write of the row); nil on SQLite, which has none.
    func rowVersion(_ sut: StoreUnderTest, _ kind: StoreKind, _ adamID: String) async throws -> String? {
        guard kind == .postgres else { return nil }
        let rows = try await sut.raw("SELECT xmin::text AS version FROM apps WHERE adam_id = \(adamID)")
        return try rows.first?.decode("version", as: String.self)
    }
}
