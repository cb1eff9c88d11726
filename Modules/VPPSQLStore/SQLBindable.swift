import Foundation
import VPPDomain

/// A Swift value that binds to a statement as one ``SQLValue`` (see ``SQLQuery``).
public protocol SQLBindable: Sendable {
    var sqlValue: SQLValue { get }
}

/// A Swift value read from one column (see ``SQLRow/decode(_:as:)``).
public protocol SQLDecodable: Sendable {
    /// Reads the value; throws ``SQLDriverError/decoding(_:)`` naming `column` when it does not fit.
    static func decode(_ value: SQLValue, column: String) throws(SQLDriverError) -> Self
}

extension SQLDecodable {
    static func mismatch(_ value: SQLValue, _ column: String) -> SQLDriverError {
        .decoding("column \(column) is not \(Self.self): \(value)")
    }
}

extension String: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .text(self) }
    public static func decode(_ value: SQLValue, column: String) throws(SQLDriverError) -> String {
        switch value {
        case .text(let v): return v
        case .uuid(let v): return v.uuidString.lowercased()
        case .int(let v): return String(v)
        default: throw mismatch(value, column)
        }
    }
}

extension Int64: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .int(self) }
    public static func decode(_ value: SQLValue, column: String) throws(SQLDriverError) -> Int64 {
        switch value {
        case .int(let v): return v
        case .double(let v): return Int64(v)
        case .bool(let v): return v ? 1 : 0
        case .text(let v): if let n = Int64(v) { return n }
        default: break
        }
        throw mismatch(value, column)
    }
}

extension Int: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .int(Int64(self)) }
    public static func decode(_ value: SQLValue, column: String) throws(SQLDriverError) -> Int {
        Int(try Int64.decode(value, column: column))
    }
}

extension Double: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .double(self) }
    public static func decode(_ value: SQLValue, column: String) throws(SQLDriverError) -> Double {
        switch value {
        case .double(let v): return v
        case .int(let v): return Double(v)
        default: throw mismatch(value, column)
        }
    }
}

extension Bool: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .bool(self) }
    public static func decode(_ value: SQLValue, column: String) throws(SQLDriverError) -> Bool {
        switch value {
        case .bool(let v): return v
        case .int(let v): return v != 0
        default: throw mismatch(value, column)
        }
    }
}

extension UUID: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .uuid(self) }
    public static func decode(_ value: SQLValue, column: String) throws(SQLDriverError) -> UUID {
        switch value {
        case .uuid(let v): return v
        case .text(let v): if let u = UUID(uuidString: v) { return u }
        default: break
        }
        throw mismatch(value, column)
    }
}

/// Times are milliseconds since 1970 in both databases.
extension Date: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .time(self) }
    public static func decode(_ value: SQLValue, column: String) throws(SQLDriverError) -> Date {
        Date(timeIntervalSince1970: Double(try Int64.decode(value, column: column)) / 1000)
    }
}

extension Array: SQLBindable, SQLDecodable where Element == UInt8 {
    public var sqlValue: SQLValue { .blob(self) }
    public static func decode(_ value: SQLValue, column: String) throws(SQLDriverError) -> [UInt8] {
        guard case .blob(let v) = value else { throw mismatch(value, column) }
        return v
    }
}

/// `nil` binds and reads as SQL `NULL`.
extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

extension Optional: SQLDecodable where Wrapped: SQLDecodable {
    public static func decode(_ value: SQLValue, column: String) throws(SQLDriverError) -> Wrapped? {
        value == .null ? nil : try Wrapped.decode(value, column: column)
    }
}

extension SQLValue: SQLBindable {
    public var sqlValue: SQLValue { self }
}

// MARK: VPPDomain's typed values, by their raw values

extension TypedID: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .uuid(rawValue) }
    public static func decode(_ value: SQLValue, column: String) throws(SQLDriverError) -> TypedID {
        TypedID(try UUID.decode(value, column: column))
    }
}

extension SerialNumber: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .text(value) }
    public static func decode(_ value: SQLValue, column: String) throws(SQLDriverError) -> SerialNumber {
        let text = try String.decode(value, column: column)
        do { return try SerialNumber(text) } catch { throw .decoding("column \(column): \(error.description)") }
    }
}

extension ClientUserID: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .text(value) }
    public static func decode(_ value: SQLValue, column: String) throws(SQLDriverError) -> ClientUserID {
        let text = try String.decode(value, column: column)
        do { return try ClientUserID(text) } catch { throw .decoding("column \(column): \(error.description)") }
    }
}

extension PricingParam: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .text(rawValue) }
    public static func decode(_ value: SQLValue, column: String) throws(SQLDriverError) -> PricingParam {
        let text = try String.decode(value, column: column)
        guard let pricing = PricingParam(rawValue: text) else { throw .decoding("column \(column): pricing \(text)") }
        return pricing
    }
}

extension AssetKey {
    /// `adam_id = … AND pricing = …`, with `table.` before each column when given.
    func matches(_ table: String? = nil) -> SQLQuery {
        let prefix = table.map { $0 + "." } ?? ""
        return "\(unescaped: prefix)adam_id = \(adamID) AND \(unescaped: prefix)pricing = \(pricingParam)"
    }
}

extension SQLRow {
    /// The asset named by this row's `adam_id` and `pricing` columns.
    func assetKey() throws(SQLDriverError) -> AssetKey {
        AssetKey(adamID: try decode("adam_id"), pricingParam: try decode("pricing"))
    }
}
