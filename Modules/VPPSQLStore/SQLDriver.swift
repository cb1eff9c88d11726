import Foundation
import VPPDomain

/// Errors a driver reports, normalised across PostgreSQL and SQLite.
public enum SQLDriverError: Error, Sendable, CustomStringConvertible {
    case uniqueViolation(String)
    case foreignKeyViolation(String)
    case checkViolation(String)
    case decoding(String)
    case other(String)

    public var description: String {
        switch self {
        case .uniqueViolation(let d): "unique violation: \(d)"
        case .foreignKeyViolation(let d): "foreign key violation: \(d)"
        case .checkViolation(let d): "check violation: \(d)"
        case .decoding(let d): "decoding: \(d)"
        case .other(let d): d
        }
    }
}

/// What differs between the two SQL dialects vpp speaks.
public struct SQLDialect: Sendable {
    /// Appended to the job-claim subquery: `FOR UPDATE SKIP LOCKED` on PostgreSQL, nothing on SQLite
    /// (whose write transactions are serialised anyway).
    public let skipLocked: String
    /// `GREATEST` (PostgreSQL) or `MAX` (SQLite, as a scalar function).
    public let greatest: String
    /// Rows per multi-row INSERT: both databases cap bound parameters (65,535 and 32,766).
    public let maxBindsPerStatement: Int

    /// Whether a bulk load is followed by `ANALYZE` of its table (PostgreSQL: a table filled since its last
    /// statistics is planned as if it were empty, and a nested loop over it grows with the square of its rows);
    /// also whether ``SQLStore/refreshStatistics()`` keeps fast-growing tables' statistics current.
    public let analyzesBulkLoads: Bool
    /// Whether a subquery's rows can be gathered into an array (`ARRAY(SELECT …)`, PostgreSQL); see
    /// ``member(_:of:)``.
    public let gathersArrays: Bool
    /// How a unit of work tells whether it wrote anything (to mark an ``VPPUseCases/IdempotentRequest`` carried
    /// out in the write's own transaction).
    public let writeCheck: WriteCheck

    /// How a transaction tells whether it has written.
    public enum WriteCheck: Sendable {
        /// PostgreSQL gives a transaction an id at its first write (or row lock: counted as a write, which errs
        /// on the side of never carrying a request out twice).
        case transactionID
        /// SQLite's connection counts changed rows; its transactions are serialised, so the difference from the
        /// count read when the unit of work began is this unit's.
        case changeCounter
    }

    /// `column IN (subquery)` for a subquery that picks the few rows a statement writes (a claim's `LIMIT … FOR
    /// UPDATE SKIP LOCKED`). PostgreSQL gets `column = ANY(ARRAY(subquery))`: the picked ids become one value,
    /// looked up through the primary key. Written as `IN`, the planner joined the subquery's ids against a scan
    /// of all the tenant's rows whenever it expected more than a few dozen ids (a claim of 200 intents among
    /// 10,000 licences read 20,200 rows; 2–4 ms a claim in the assignment benchmark, growing with the table).
    public func member(_ column: String, of subquery: SQLQuery) -> SQLQuery {
        gathersArrays
            ? "\(unescaped: column) = ANY(ARRAY(\(fragment: subquery)))"
            : "\(unescaped: column) IN (\(fragment: subquery))"
    }

    /// Locks the rows a SELECT reads until the transaction ends (PostgreSQL); SQLite's write
    /// transactions are serialised already.
    public var forUpdate: String { skipLocked.isEmpty ? "" : "FOR UPDATE" }

    public init(
        skipLocked: String,
        greatest: String,
        maxBindsPerStatement: Int,
        analyzesBulkLoads: Bool = false,
        gathersArrays: Bool = false,
        writeCheck: WriteCheck = .changeCounter
    ) {
        self.analyzesBulkLoads = analyzesBulkLoads
        self.gathersArrays = gathersArrays
        self.writeCheck = writeCheck
        self.skipLocked = skipLocked
        self.greatest = greatest
        self.maxBindsPerStatement = maxBindsPerStatement
    }
}

/// A connection inside a transaction; the driver renders each ``SQLQuery``'s placeholders.
public protocol SQLConnection: Sendable {
    @discardableResult
    func query(_ query: SQLQuery) async throws -> [SQLRow]
}

/// A database the shared store runs on.
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    /// What ``SQLMigrator`` needs to migrate this database.
    var migrationSeam: MigrationSeam { get }
    /// Runs `body` in one transaction (serialisable enough for the store's conditional updates) with `settings`
    /// in force from its first statement; rethrows `body`'s own errors unchanged.
    func transaction<T: Sendable>(
        _ settings: TransactionSettings,
        _ body: @Sendable (any SQLConnection) async throws -> T
    ) async throws -> T
}

extension SQLDatabase {
    /// Runs `body` in one transaction without settings (work across tenants: jobs, migrations).
    public func transaction<T: Sendable>(_ body: @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await transaction(TransactionSettings(), body)
    }
}

/// What a transaction sets for itself before its first statement, transaction-local. The driver sends them with
/// its own settings in one statement (PostgreSQL: with the request's `statement_timeout`, right after BEGIN), so a
/// tenant's unit of work starts in two round trips rather than three.
public struct TransactionSettings: Sendable, Hashable {
    /// The tenant the unit of work is scoped to (PostgreSQL: the tenant row-level security admits, as
    /// `vpp.tenant_id`); nil for work across tenants. SQLite has no row-level security and ignores it.
    public var tenant: TenantID?

    public init(tenant: TenantID? = nil) {
        self.tenant = tenant
    }
}

extension SQLConnection {
    /// Inserts `rows` (each a parenthesised tuple such as `"(\(tenant), \(serial))"`) with multi-row VALUES
    /// statements, as many rows per statement as the dialect's bind cap allows.
    /// `prefix` is e.g. `INSERT INTO t (a, b)`; `suffix` e.g. `ON CONFLICT DO NOTHING`.
    public func insertMany(
        _ prefix: SQLQuery,
        rows: [SQLQuery],
        suffix: SQLQuery = "",
        dialect: SQLDialect
    ) async throws {
        guard let first = rows.first else { return }
        let perStatement = max(1, min(1000, dialect.maxBindsPerStatement / max(1, first.binds.count)))
        for start in stride(from: 0, to: rows.count, by: perStatement) {
            let chunk = Array(rows[start..<min(start + perStatement, rows.count)])
            try await query(
                "\(fragment: prefix) VALUES \(fragment: .joined(chunk, separator: ",")) \(fragment: suffix)"
            )
        }
    }
}
