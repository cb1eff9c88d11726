import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import VPPPostgres

/// `vppctl migrate`: applies pending schema migrations under an advisory lock.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations (safe to run from several servers at once)."
    )

    @Option(help: "postgres://… URL (default: $VPP_DATABASE_URL).") var databaseURL: String?

    func run() async throws {
        guard let url = databaseURL ?? ProcessInfo.processInfo.environment["VPP_DATABASE_URL"] else {
            throw ValidationError("Give --database-url or set VPP_DATABASE_URL.")
        }
        let logger = Logger(label: "vppctl.migrate")
        let client = PostgresClient(configuration: try PostgresURL.configuration(from: url), backgroundLogger: logger)
        let migrator = PostgresMigrator(logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let applied = try await migrator.migrate(client)
            print(applied.isEmpty ? "Database already at version \(migrator.latestVersion)." :
                    "Applied migrations \(applied.map(String.init).joined(separator: ", ")); now at version \(migrator.latestVersion).")
        }
    }
}
