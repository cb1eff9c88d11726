import Foundation
import Logging
import VPPSQLStore

/// ``SQLMigrator`` on an SQLite file: the shared runner in one `BEGIN IMMEDIATE` transaction, whose write lock
/// plays the part of PostgreSQL's advisory lock when two processes open the same file at once.
public struct SQLiteMigrator: Sendable {
    let migrator: SQLMigrator

    public init(migrations: [SQLMigration] = allSQLMigrations, logger: Logger) {
        self.migrator = SQLMigrator(migrations: migrations) { migration in
            logger.info(
                "applied migration",
                metadata: ["version": "\(migration.version)", "name": "\(migration.name)"]
            )
        }
    }

    public var latestVersion: Int { migrator.latestVersion }

    /// Applies every migration above the current version up to `target` (default: all).
    @discardableResult
    public func migrate(_ database: SQLiteSQLDatabase, upTo target: Int? = nil) async throws -> [Int] {
        try await migrator.migrate(database, upTo: target)
    }

    /// The database's schema version (0 when never migrated).
    public func currentVersion(_ database: SQLiteSQLDatabase) async throws -> Int {
        try await migrator.currentVersion(database)
    }

    /// Throws unless the database is exactly at this build's latest version.
    public func requireCurrent(_ database: SQLiteSQLDatabase) async throws {
        try await migrator.requireCurrent(database)
    }
}
