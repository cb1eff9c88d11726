import Foundation
import Logging
import PostgresNIO
import Testing
import VPPDomain
import VPPPostgres
import VPPSQLStore
import VPPSQLite
import VPPUseCases

/// The two adapters every storage contract test runs against, unchanged.
///
/// `allCases` is the kinds this run tests: both, except in the fast lane (`Scripts/test.sh --fast` sets
/// `VPP_TEST_LANE=fast`), which has no PostgreSQL and runs every `arguments: StoreKind.allCases` test on the
/// embedded SQLite adapter only. The full run always tests both.
public enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case postgres, sqlite
    public var testDescription: String { rawValue }

    public static var allCases: [StoreKind] {
        ProcessInfo.processInfo.environment["VPP_TEST_LANE"] == "fast" ? [.sqlite] : [.postgres, .sqlite]
    }
}

/// A migrated, empty store of either kind, with raw SQL access for the tests that must look underneath.
public struct StoreUnderTest: Sendable {
    public let kind: StoreKind
    public let store: any Store
    public let database: any SQLDatabase
    /// For the cross-process tests: the URL another process opens.
    public let url: String
    /// Another store instance on the same database, as a second server would have.
    public let makeSecondStore: @Sendable () async throws -> any Store

    /// Runs one statement in its own transaction, outside any tenant scope.
    public func raw(_ query: SQLQuery) async throws -> [SQLRow] {
        try await database.transaction { try await $0.query(query) }
    }
}

/// Runs `body` against a fresh store of `kind`, migrated to the latest version (or `upTo`).
public func withStore<T: Sendable>(
    _ kind: StoreKind,
    upTo version: Int? = nil,
    clock: @escaping @Sendable () -> Date = { Date() },
    _ body: @Sendable (StoreUnderTest) async throws -> T
) async throws -> T {
    switch kind {
    case .postgres:
        // The latest schema is a clone of the migrated template; a step test (`upTo`) migrates from scratch.
        return try await TestDatabase.withDatabase(migrated: version == nil) { client, url in
            if version != nil { try await PostgresMigrator(logger: TestDatabase.logger).migrate(client, upTo: version) }
            let database = PostgresSQLDatabase(client: client, logger: TestDatabase.logger)
            return try await body(
                StoreUnderTest(
                    kind: kind,
                    store: PostgresStore.make(client: client, logger: TestDatabase.logger, clock: clock),
                    database: database,
                    url: url,
                    makeSecondStore: { PostgresStore.make(client: client, logger: TestDatabase.logger, clock: clock) }
                )
            )
        }
    case .sqlite:
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vpp-store-\(UUID().uuidString)")
        let path = folder.appendingPathComponent("vpp.sqlite").path
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = try await SQLiteSQLDatabase.open(path: path, logger: TestDatabase.logger)
        do {
            try await SQLiteMigrator(logger: TestDatabase.logger).migrate(database, upTo: version)
            let result = try await body(
                StoreUnderTest(
                    kind: kind,
                    store: SQLiteStore.make(database: database, clock: clock),
                    database: database,
                    url: "sqlite://\(path)",
                    makeSecondStore: { SQLiteStore.make(database: database, clock: clock) }
                )
            )
            try await database.close()
            return result
        } catch {
            try? await database.close()
            throw error
        }
    }
}

// MARK: Fixtures

public let now = Date(timeIntervalSince1970: 1_795_000_000)

public func makeTenant(_ name: String) -> Tenant {
    let id = TenantID()
    return Tenant(id: id, name: name, holderIdentity: HolderIdentity(id: id.description, name: "vpp", metadata: "test"))
}

public func makeToken(_ tenant: TenantID, location: String = "1001", name: String = "Main Campus") -> ContentToken {
    ContentToken(
        tenantID: tenant,
        location: Location(appleID: location, name: name, countryCode: "US"),
        organizationName: "Acme",
        expiresAt: now.addingTimeInterval(200 * 86_400),
        secretFingerprint: "abcd1234",
        noticeRecipients: ["it@acme.example"]
    )
}

public let keynote = Asset(
    key: AssetKey(adamID: "408709785"),
    productType: .app,
    platforms: [.iOS, .macOS],
    isDeviceAssignable: true,
    isRevocable: true
)

public func counts(_ total: Int, assigned: Int = 0) -> LicenceCounts {
    try! LicenceCounts(total: total, assigned: assigned, available: total - assigned)
}

public func serial(_ i: Int) -> SerialNumber { try! SerialNumber(String(format: "SN%08d", i)) }

/// A tenant with one token carrying `keynote` with `licences` available.
public func seedTenant(
    _ store: some Store,
    name: String = "Acme",
    licences: Int = 10
) async throws -> (Tenant, ContentToken) {
    let tenant = makeTenant(name)
    try await store.createTenant(tenant)
    let token = makeToken(tenant.id)
    try await store.inTenant(tenant.id) { (tx) async throws in
        try await tx.insertToken(token, secret: SealedSecret(keyID: "k1", ciphertext: [1, 2, 3]))
        try await tx.upsertApps([keynote])
        try await tx.replaceCounts(tokenID: token.id, [keynote.key: counts(licences)])
    }
    return (tenant, token)
}
