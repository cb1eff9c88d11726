import Foundation

/// The column names of one result set, shared by its rows.
public final class SQLColumns: Sendable {
    public let names: [String]
    let index: [String: Int]

    public init(_ names: [String]) {
        self.names = names
        self.index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }
}

/// One result row, read by column name: `row.decode("serial", as: SerialNumber.self)`.
public struct SQLRow: Sendable {
    public let values: [SQLValue]
    public let columns: SQLColumns

    public init(_ values: [SQLValue], columns: SQLColumns) {
        self.values = values
        self.columns = columns
    }

    /// The column's value decoded as `type`; throws ``SQLDriverError/decoding(_:)`` naming the column when the
    /// result has no such column or its value does not fit.
    public func decode<T: SQLDecodable>(_ column: String, as type: T.Type = T.self) throws(SQLDriverError) -> T {
        guard let position = columns.index[column] else {
            throw .decoding("no column \(column) in \(columns.names.joined(separator: ", "))")
        }
        return try T.decode(values[position], column: column)
    }

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
