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
