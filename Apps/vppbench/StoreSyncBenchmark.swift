import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import VPPDomain
import VPPPostgres
import VPPSQLite
import VPPUseCases

/// `vppbench store-sync`: stores a full sync of N assignments (one unit of work, batched inserts) and
/// prints the time and the process's peak memory.
struct StoreSyncBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store-sync",
        abstract: "Time storing a sync of many assignments."
    )

    @Option(help: "postgres://… or sqlite:///path") var databaseURL: String
    @Option var assignments = 200_000
    @Option var apps = 100

    func run() async throws {
        var logger = Logger(label: "store-sync")
        logger.logLevel = .error
        if databaseURL.hasPrefix("sqlite://") {
            let path = String(databaseURL.dropFirst("sqlite://".count))
            let database = try await SQLiteSQLDatabase.open(path: path, logger: logger)
            try await SQLiteMigrator(logger: logger).migrate(database)
            try await measure(SQLiteStore.make(database: database), flavour: "sqlite")
            try await database.close()
        } else {
            let client = PostgresClient(
                configuration: try PostgresURL.configuration(from: databaseURL),
                backgroundLogger: logger
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                try await PostgresMigrator(logger: logger).migrate(client)
                try await measure(PostgresStore.make(client: client, logger: logger), flavour: "postgres")
                group.cancelAll()
            }
        }
    }

    private func measure(_ store: any Store, flavour: String) async throws {
        let tenantID = TenantID()
        try await store.createTenant(
            Tenant(
                id: tenantID,
                name: "bench-\(tenantID)",
                holderIdentity: HolderIdentity(id: tenantID.description, name: "vpp", metadata: "bench")
            )
        )
        let token = ContentToken(
            tenantID: tenantID,
            location: Location(appleID: "bench", name: "Bench", countryCode: "US"),
            organizationName: "Bench",
            expiresAt: Date().addingTimeInterval(86_400 * 300),
            secretFingerprint: "00000000"
        )
        let keys = (0..<apps).map { AssetKey(adamID: "\(5_000_000 + $0)") }
        try await store.inTenant(tenantID) { tx in
            try await tx.insertToken(token, secret: SealedSecret(keyID: "bench", ciphertext: [0]))
            try await tx.upsertApps(
                keys.map {
                    Asset(key: $0, productType: .app, platforms: [.iOS], isDeviceAssignable: true, isRevocable: true)
                }
            )
        }
        let records = (0..<assignments).map { i in
            AppleAssignmentRecord(asset: keys[i % keys.count], assignee: .serialNumber(String(format: "BENCH%08d", i)))
        }
        let clock = ContinuousClock()
        let started = clock.now
        let result = try await store.inTenant(tenantID) { tx in
            try await tx.mergeAppleAssignments(tokenID: token.id, records, fullSnapshot: true)
        }
        let full = clock.now - started
        let again = clock.now
        let unchanged = try await store.inTenant(tenantID) { tx in
            try await tx.mergeAppleAssignments(tokenID: token.id, records, fullSnapshot: true)
        }
        let resync = clock.now - again
        print(
            "store-sync[\(flavour)]: stored \(result.inserted) assignments in \(Self.seconds(full)) s (target < 10 "
                + "s on PostgreSQL)"
        )
        print(
            "store-sync[\(flavour)]: re-sync of the same \(assignments) (no changes: \(unchanged.inserted) "
                + "inserted, \(unchanged.deleted) deleted) in \(Self.seconds(resync)) s"
        )
        if let peak = peakResidentMiB() {
            print(String(format: "store-sync[\(flavour)]: peak RSS %.1f MiB (target < 200 MB)", peak))
        }
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.2f", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }
}
