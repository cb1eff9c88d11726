import Foundation

/// What the migrator needs from a database beyond running SQL: the schema flavour, how migrating servers
/// exclude each other, and the bookkeeping table's dialect.
public struct MigrationSeam: Sendable {
    /// Which flavour of each ``SQLMigration``'s statements this database runs.
    public let flavor: SQLMigration.Flavor
    /// Run first in the migrating transaction (PostgreSQL: a transaction-scoped advisory lock, so servers
    /// starting at once migrate one after another); nil where the transaction itself excludes others (SQLite's
    /// `BEGIN IMMEDIATE` write lock).
    public let lock: SQLQuery?
    /// Creates `schema_migrations` unless it exists.
    public let createBookkeeping: SQLQuery
    /// Answers one row when `schema_migrations` exists (read without creating it).
    public let bookkeepingExists: SQLQuery
    /// Records one applied migration.
    public let record: @Sendable (_ version: Int, _ name: String) -> SQLQuery

    public init(
        flavor: SQLMigration.Flavor,
        lock: SQLQuery?,
        createBookkeeping: SQLQuery,
        bookkeepingExists: SQLQuery,
        record: @escaping @Sendable (Int, String) -> SQLQuery
    ) {
        self.flavor = flavor
        self.lock = lock
        self.createBookkeeping = createBookkeeping
        self.bookkeepingExists = bookkeepingExists
        self.record = record
    }
}

/// Applies the shared ``SQLMigration``s to either database, recording each in `schema_migrations`, all in one
/// transaction: a failing migration leaves the schema as it was. The one runner for PostgreSQL and SQLite.
public struct SQLMigrator: Sendable {
    let migrations: [SQLMigration]
    /// Told of each migration as it is applied (the adapters log it; this layer has no logger).
    let applied: @Sendable (SQLMigration) -> Void

    public init(
        migrations: [SQLMigration] = allSQLMigrations,
        applied: @escaping @Sendable (SQLMigration) -> Void = { _ in }
    ) {
        precondition(
            migrations.enumerated().allSatisfy { $0.offset + 1 == $0.element.version },
            "migrations must be numbered 1, 2, 3, … without gaps"
        )
        self.migrations = migrations
        self.applied = applied
    }

    /// The newest version this build knows.
    public var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Applies every migration above the current version up to `target` (default: all). Refuses a database
    /// migrated past what this build knows (``MigrationError/databaseAhead(database:known:)``).
    /// - Returns: the versions applied by this call.
    @discardableResult
    public func migrate(_ database: any SQLDatabase, upTo target: Int? = nil) async throws -> [Int] {
        let (target, latest, migrations, report) = (target ?? latestVersion, latestVersion, migrations, applied)
        let seam = database.migrationSeam
        return try await database.transaction { connection in
            if let lock = seam.lock { try await connection.query(lock) }
            try await connection.query(seam.createBookkeeping)
            let current = try await Self.version(connection)
            if current > latest { throw MigrationError.databaseAhead(database: current, known: latest) }
            var applied: [Int] = []
            for migration in migrations where migration.version > current && migration.version <= target {
                for statement in migration.statements(for: seam.flavor) {
                    try await connection.query(SQLQuery(unescaped: statement))
                }
                try await connection.query(seam.record(migration.version, migration.name))
                report(migration)
                applied.append(migration.version)
            }
            return applied
        }
    }

    /// The database's schema version (0 when never migrated).
    public func currentVersion(_ database: any SQLDatabase) async throws -> Int {
        let seam = database.migrationSeam
        return try await database.transaction { connection in
            guard try await !connection.query(seam.bookkeepingExists).isEmpty else { return 0 }
            return try await Self.version(connection)
        }
    }

    /// Throws unless the database is exactly at this build's latest version: what a server checks at start.
    public func requireCurrent(_ database: any SQLDatabase) async throws {
        let current = try await currentVersion(database)
        if current > latestVersion { throw MigrationError.databaseAhead(database: current, known: latestVersion) }
        if current < latestVersion { throw MigrationError.pending(current: current, latest: latestVersion) }
    }

    private static func version(_ connection: any SQLConnection) async throws -> Int {
        try await connection.query("SELECT coalesce(max(version), 0) AS version FROM schema_migrations").first?
            .decode("version") ?? 0
    }
}
