import Foundation
import Logging
import PostgresNIO
import VPPSQLStore

/// Applies the shared ``SQLMigration``s to PostgreSQL, recording each in `schema_migrations`.
///
/// Runs under a transaction-scoped advisory lock, so any number of servers may start at once: one
/// migrates, the others wait and then find nothing to do.
public struct PostgresMigrator: Sendable {
    /// Arbitrary but fixed: "vpp migrations" as a 64-bit advisory lock key.
    static let advisoryLockKey: Int64 = 0x7670_705F_6D69_6772
    let migrations: [SQLMigration]
    let logger: Logger

    public init(migrations: [SQLMigration] = allSQLMigrations, logger: Logger) {
        precondition(migrations.enumerated().allSatisfy { $0.offset + 1 == $0.element.version },
                     "migrations must be numbered 1, 2, 3, … without gaps")
        self.migrations = migrations
        self.logger = logger
    }

    public var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Applies every migration above the current version up to `target` (default: all).
    /// - Returns: the versions applied by this call.
    @discardableResult
    public func migrate(_ client: PostgresClient, upTo target: Int? = nil) async throws -> [Int] {
        let target = target ?? latestVersion
        return try await client.transaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.advisoryLockKey))", logger: logger)
            try await Self.ensureBookkeeping(connection, logger: logger)
            let current = try await Self.currentVersion(connection, logger: logger)
            if current > latestVersion { throw MigrationError.databaseAhead(database: current, known: latestVersion) }
            var applied: [Int] = []
            for migration in migrations where migration.version > current && migration.version <= target {
                for statement in migration.statements(for: .postgres) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                    logger: logger)
                logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                applied.append(migration.version)
            }
            return applied
        }
    }

    /// The database's schema version (0 when never migrated).
    public func currentVersion(_ client: PostgresClient) async throws -> Int {
        try await client.withConnection { connection in
            let exists = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger)
                .collect().first?.decode(Bool.self) ?? false
            return exists ? try await Self.currentVersion(connection, logger: logger) : 0
        }
    }

    /// Throws unless the database is exactly at this build's latest version: what a server checks at start.
    public func requireCurrent(_ client: PostgresClient) async throws {
        let current = try await currentVersion(client)
        if current > latestVersion { throw MigrationError.databaseAhead(database: current, known: latestVersion) }
        if current < latestVersion { throw MigrationError.pending(current: current, latest: latestVersion) }
    }

    private static func ensureBookkeeping(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
    }

    private static func currentVersion(_ connection: PostgresConnection, logger: Logger) async throws -> Int {
        let rows = try await connection.query("SELECT coalesce(max(version), 0) FROM schema_migrations", logger: logger).collect()
        return try rows.first?.decode(Int.self) ?? 0
    }
}
