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
}
