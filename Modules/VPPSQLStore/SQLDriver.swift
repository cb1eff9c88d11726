import Foundation

/// A value bound to or read from SQL, in the few types vpp's schema uses.
public enum SQLValue: Sendable, Hashable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case bool(Bool)
    case blob([UInt8])
    case uuid(UUID)

    public static func optional(_ text: String?) -> SQLValue { text.map(SQLValue.text) ?? .null }
    public static func optional(_ value: Int64?) -> SQLValue { value.map(SQLValue.int) ?? .null }
    /// Timestamps are stored as milliseconds since 1970 in both databases.
    /// Rounded down, so a time read back is never later than the one written (a notice due "now" stays due).
    public static func time(_ date: Date) -> SQLValue {
        .int(Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }
    public static func optionalTime(_ date: Date?) -> SQLValue { date.map(time) ?? .null }
}

/// One result row, read by column position.
public struct SQLRow: Sendable {
    public let values: [SQLValue]

    public init(_ values: [SQLValue]) { self.values = values }

    public func isNull(_ i: Int) -> Bool { values[i] == .null }

    public func int(_ i: Int) throws -> Int {
        switch values[i] {
        case .int(let v): return Int(v)
        case .double(let v): return Int(v)
        case .bool(let v): return v ? 1 : 0
        case .text(let v): if let n = Int(v) { return n }
        default: break
        }
        throw SQLDriverError.decoding("column \(i) is not an integer: \(values[i])")
    }

    public func optionalInt(_ i: Int) throws -> Int? { isNull(i) ? nil : try int(i) }

    public func text(_ i: Int) throws -> String {
        switch values[i] {
        case .text(let v): return v
        case .uuid(let v): return v.uuidString.lowercased()
        case .int(let v): return String(v)
        default: throw SQLDriverError.decoding("column \(i) is not text: \(values[i])")
        }
    }

    public func optionalText(_ i: Int) throws -> String? { isNull(i) ? nil : try text(i) }

    public func bool(_ i: Int) throws -> Bool {
        switch values[i] {
        case .bool(let v): return v
        case .int(let v): return v != 0
        default: throw SQLDriverError.decoding("column \(i) is not a boolean: \(values[i])")
        }
    }

    public func uuid(_ i: Int) throws -> UUID {
        switch values[i] {
        case .uuid(let v): return v
        case .text(let v): if let u = UUID(uuidString: v) { return u }
        default: break
        }
        throw SQLDriverError.decoding("column \(i) is not a UUID: \(values[i])")
    }

    public func optionalUUID(_ i: Int) throws -> UUID? { isNull(i) ? nil : try uuid(i) }

    public func blob(_ i: Int) throws -> [UInt8] {
        guard case .blob(let v) = values[i] else { throw SQLDriverError.decoding("column \(i) is not a blob") }
        return v
    }

    public func time(_ i: Int) throws -> Date { Date(timeIntervalSince1970: Double(try int(i)) / 1000) }
    public func optionalTime(_ i: Int) throws -> Date? { isNull(i) ? nil : try time(i) }
}

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

    /// Run first in every tenant unit of work with the tenant id bound (PostgreSQL: scopes row-level security).
    public let scopeToTenant: String?

    /// Locks the rows a SELECT reads until the transaction ends (PostgreSQL); SQLite's write
    /// transactions are serialised already.
    public var forUpdate: String { skipLocked.isEmpty ? "" : "FOR UPDATE" }

    public init(skipLocked: String, greatest: String, maxBindsPerStatement: Int, scopeToTenant: String? = nil) {
        self.skipLocked = skipLocked
        self.greatest = greatest
        self.maxBindsPerStatement = maxBindsPerStatement
        self.scopeToTenant = scopeToTenant
    }
}

/// A connection inside a transaction. SQL uses `?` placeholders; the driver adapts them.
public protocol SQLConnection: Sendable {
    @discardableResult
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
}

/// A database the shared store runs on.
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    /// Runs `body` in one transaction (serialisable enough for the store's conditional updates);
    /// rethrows `body`'s own errors unchanged.
    func transaction<T: Sendable>(_ body: @Sendable (any SQLConnection) async throws -> T) async throws -> T
}

extension SQLConnection {
    @discardableResult
    public func query(_ sql: String, _ binds: SQLValue...) async throws -> [SQLRow] {
        try await query(sql, binds)
    }

    /// Inserts `rows` with multi-row VALUES statements, as many rows per statement as the dialect allows.
    /// `prefix` is e.g. `INSERT INTO t (a, b)`; `suffix` e.g. `ON CONFLICT DO NOTHING`.
    public func insertMany(
        _ prefix: String, columns: Int, rows: [[SQLValue]], suffix: String = "", dialect: SQLDialect
    ) async throws {
        guard !rows.isEmpty else { return }
        let perStatement = max(1, min(1000, dialect.maxBindsPerStatement / columns))
        let tuple = "(" + Array(repeating: "?", count: columns).joined(separator: ",") + ")"
        for start in stride(from: 0, to: rows.count, by: perStatement) {
            let chunk = rows[start..<min(start + perStatement, rows.count)]
            let sql =
                prefix + " VALUES " + Array(repeating: tuple, count: chunk.count).joined(separator: ",") + " " + suffix
            try await query(sql, chunk.flatMap { $0 })
        }
    }
}
