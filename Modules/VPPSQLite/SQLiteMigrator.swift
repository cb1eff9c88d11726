import Foundation
import Logging
import VPPSQLStore
import VPPUseCases

/// Applies the shared ``SQLMigration``s to SQLite, recording each in `schema_migrations`.
///
/// Runs in one `BEGIN IMMEDIATE` transaction: SQLite's write lock plays the part of PostgreSQL's
/// advisory lock when two processes open the same file at once.
public struct SQLiteMigrator: Sendable {
    let migrations: [SQLMigration]
    let logger: Logger

    public init(migrations: [SQLMigration] = allSQLMigrations, logger: Logger) {
        self.migrations = migrations
        self.logger = logger
    }

    public var latestVersion: Int { migrations.last?.version ?? 0 }

    @discardableResult
    public func migrate(_ database: SQLiteSQLDatabase, upTo target: Int? = nil) async throws -> [Int] {
        let target = target ?? latestVersion
        let migrations = self.migrations
        let latest = latestVersion
        let logger = self.logger
        return try await database.transaction { connection in
            try await connection.query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)")
            let current = try await connection.query("SELECT coalesce(max(version), 0) FROM schema_migrations").first?.int(0) ?? 0
            if current > latest { throw MigrationError.databaseAhead(database: current, known: latest) }
            var applied: [Int] = []
            for migration in migrations where migration.version > current && migration.version <= target {
                for statement in migration.statements(for: .sqlite) { try await connection.query(SQLQuery(unescaped: statement)) }
                try await connection.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                                           .int(Int64(migration.version)), .text(migration.name), .time(Date()))
                logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                applied.append(migration.version)
            }
            return applied
        }
    }

    public func currentVersion(_ database: SQLiteSQLDatabase) async throws -> Int {
        try await database.transaction { connection in
            let exists = try await !connection.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").isEmpty
            guard exists else { return 0 }
            return try await connection.query("SELECT coalesce(max(version), 0) FROM schema_migrations").first?.int(0) ?? 0
        }
    }

    public func requireCurrent(_ database: SQLiteSQLDatabase) async throws {
        let current = try await currentVersion(database)
        if current > latestVersion { throw MigrationError.databaseAhead(database: current, known: latestVersion) }
        if current < latestVersion { throw MigrationError.pending(current: current, latest: latestVersion) }
    }
}

/// Builds the storage port on SQLite.
public enum SQLiteStore {
    public static func make(database: SQLiteSQLDatabase, clock: @escaping @Sendable () -> Date = { Date() }) -> any Store {
        SQLStore(database: database, clock: clock)
    }
}
