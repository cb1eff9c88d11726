import Foundation
import Logging
import PostgresNIO
import VPPSQLStore

/// ``SQLMigrator`` on a `PostgresClient`: the shared runner with PostgreSQL's advisory lock, so any number of
/// servers may start at once (one migrates, the others wait and then find nothing to do).
public struct PostgresMigrator: Sendable {
    let migrator: SQLMigrator
    let logger: Logger

    public init(migrations: [SQLMigration] = allSQLMigrations, logger: Logger) {
        self.migrator = SQLMigrator(migrations: migrations) { migration in
            logger.info(
                "applied migration",
                metadata: ["version": "\(migration.version)", "name": "\(migration.name)"]
            )
        }
        self.logger = logger
    }

    public var latestVersion: Int { migrator.latestVersion }

    /// Applies every migration above the current version up to `target` (default: all).
    /// - Returns: the versions applied by this call.
    @discardableResult
    public func migrate(_ client: PostgresClient, upTo target: Int? = nil) async throws -> [Int] {
        try await migrator.migrate(database(client), upTo: target)
    }

    /// The database's schema version (0 when never migrated).
    public func currentVersion(_ client: PostgresClient) async throws -> Int {
        try await migrator.currentVersion(database(client))
    }

    /// Throws unless the database is exactly at this build's latest version: what a server checks at start.
    public func requireCurrent(_ client: PostgresClient) async throws {
        try await migrator.requireCurrent(database(client))
    }

    private func database(_ client: PostgresClient) -> PostgresSQLDatabase {
        PostgresSQLDatabase(client: client, logger: logger)
    }
}
