import Foundation

/// One numbered, forward-only schema change, compiled into the binary and shared by both databases.
///
/// Statements are written in PostgreSQL's dialect; ``statements(for:)`` maps the few type names that
/// differ for SQLite, so the two schemas cannot drift apart.
public struct SQLMigration: Sendable {
    public enum Flavor: Sendable { case postgres, sqlite }

    public let version: Int
    public let name: String
    let postgresStatements: [String]
    /// Statements with no SQLite counterpart (row-level security).
    let postgresOnly: [String]

    init(version: Int, name: String, statements: [String], postgresOnly: [String] = []) {
        self.version = version
        self.name = name
        self.postgresStatements = statements
        self.postgresOnly = postgresOnly
    }

    public func statements(for flavor: Flavor) -> [String] {
        switch flavor {
        case .postgres: return postgresStatements + postgresOnly
        case .sqlite:
            return postgresStatements.map { statement in
                var text = statement
                for (from, to) in [
                    (#"\buuid\b"#, "TEXT"), (#"\bbytea\b"#, "BLOB"), (#"\bboolean\b"#, "INTEGER"),
                    (#"\bbigint\b"#, "INTEGER"),
                    (#"DEFAULT false\b"#, "DEFAULT 0"), (#"DEFAULT true\b"#, "DEFAULT 1"),
                ] {
                    text = text.replacingOccurrences(of: from, with: to, options: .regularExpression)
                }
                return text
            }
        }
    }
}

/// Every migration this build knows, in order. Append only: never edit or reorder a released one.
public let allSQLMigrations: [SQLMigration] = [
    migration0001Tenants,
    migration0002TokensAndLicences,
    migration0003InventoryOutboxesAudit,
    migration0004JobsAndRateLimits,
    migration0005Notifications,
    migration0006RowLevelSecurity,
    migration0007Ledger,
    migration0008MDMDelivery,
    migration0009Console,
    migration0010AccessKeys,
    migration0011ListingIndexes,
    migration0012LookupIndexes,
    migration0013AppleCounts,
    migration0014DesiredState,
    migration0015IdempotencyKeys,
    migration0016Declarations,
    migration0017Leases,
    migration0018IdempotentOutcome,
    migration0019DeclarationStatus,
    migration0020DeclarationTerms,
    migration0021DeclarationClaimOrder,
    migration0022DeclarationStatusPolls,
]

/// The database is at a schema version this build cannot serve.
public enum MigrationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Another, newer vpp migrated the database further than this build knows.
    case databaseAhead(database: Int, known: Int)
    /// Migrations are pending; run `vppctl migrate`.
    case pending(current: Int, latest: Int)

    public var description: String {
        switch self {
        case .databaseAhead(let database, let known):
            "The database is at schema version \(database), but this vpp knows only up to \(known). "
                + "Upgrade vpp before running it against this database."
        case .pending(let current, let latest):
            "The database is at schema version \(current) of \(latest). Run `vppctl migrate` first."
        }
    }
}
