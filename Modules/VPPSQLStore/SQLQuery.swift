import Foundation

/// One SQL statement with its values, for either database: string interpolation binds, so a value can
/// never become SQL text.
///
/// ```swift
/// let q: SQLQuery = "SELECT name FROM devices WHERE tenant_id = \(tenant) AND serial IN (\(list: serials))"
/// ```
/// - `\(value)` binds any ``SQLBindable`` (a placeholder in the text, the value beside it);
/// - `\(list: values)` binds each element, comma-separated (an empty list renders `NULL`, which matches nothing);
/// - `\(fragment: other)` splices another query with its binds;
/// - `\(unescaped: text)` splices trusted SQL text (dialect keywords, never a value).
///
/// Drivers render the placeholders: `$1…$n` on PostgreSQL, `?` on SQLite.
public struct SQLQuery: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// A piece of a statement: trusted SQL text or a bound value.
    public enum Segment: Sendable, Equatable {
        case sql(String)
        case bind(SQLValue)
    }

    /// The statement's pieces in order.
    public private(set) var segments: [Segment]

    public init(stringLiteral value: String) { segments = [.sql(value)] }

    public init(stringInterpolation: StringInterpolation) { segments = stringInterpolation.segments }

    init(segments: [Segment]) { self.segments = segments }

    /// Trusted SQL text without values (a migration's DDL, a fixed statement held in a variable).
    public init(unescaped text: String) { segments = [.sql(text)] }

    /// The bound values in order.
    public var binds: [SQLValue] {
        segments.compactMap { if case .bind(let value) = $0 { value } else { nil } }
    }

    /// The SQL text with each bind replaced by `placeholder(n)` (n counts from 1).
    public func sql(placeholder: (Int) -> String) -> String {
        var text = ""
        var count = 0
        for segment in segments {
            switch segment {
            case .sql(let part): text += part
            case .bind:
                count += 1
                text += placeholder(count)
            }
        }
        return text
    }

    /// The text with `?` placeholders and no values (logs and errors may show it: it holds no value).
    public var description: String { sql { _ in "?" } }

    /// Appends trusted SQL text or another query.
    public mutating func append(_ other: SQLQuery) { segments += other.segments }

    public static func + (lhs: SQLQuery, rhs: SQLQuery) -> SQLQuery { SQLQuery(segments: lhs.segments + rhs.segments) }

    /// `parts` separated by `separator` (e.g. the rows of a multi-row VALUES, or `AND`-ed conditions).
    public static func joined(_ parts: [SQLQuery], separator: String) -> SQLQuery {
        var result = SQLQuery(segments: [])
        for (index, part) in parts.enumerated() {
            if index > 0 { result.segments.append(.sql(separator)) }
            result.segments += part.segments
        }
        return result
    }

    /// Builds the statement from interpolations; see ``SQLQuery``.
    public struct StringInterpolation: StringInterpolationProtocol, Sendable {
        var segments: [Segment] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            segments.reserveCapacity(interpolationCount * 2 + 1)
        }

        public mutating func appendLiteral(_ literal: String) { segments.append(.sql(literal)) }

        /// Binds a value.
        public mutating func appendInterpolation(_ value: some SQLBindable) { segments.append(.bind(value.sqlValue)) }

        /// Binds a value or `NULL` (its own overload, so the compiler does not take an optional for text).
        public mutating func appendInterpolation<T: SQLBindable>(_ value: T?) {
            segments.append(.bind(value?.sqlValue ?? .null))
        }

        /// Binds a raw value (rows built generically, e.g. for ``SQLConnection/insertMany(_:rows:suffix:dialect:)``).
        public mutating func appendInterpolation(_ value: SQLValue) { segments.append(.bind(value)) }

        /// Binds each element, comma-separated, for `IN (…)`; an empty list renders `NULL` (matches nothing).
        public mutating func appendInterpolation<S: Sequence>(list values: S) where S.Element: SQLBindable {
            var first = true
            for value in values {
                if !first { segments.append(.sql(", ")) }
                segments.append(.bind(value.sqlValue))
                first = false
            }
            if first { segments.append(.sql("NULL")) }
        }

        /// Splices another query, its binds included.
        public mutating func appendInterpolation(fragment: SQLQuery) { segments += fragment.segments }

        /// Splices trusted SQL text: dialect keywords and fixed column lists, never a value.
        public mutating func appendInterpolation(unescaped text: String) { segments.append(.sql(text)) }
    }
}
