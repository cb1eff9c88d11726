import Foundation
import VPPDomain

/// A column a listing can be sorted by (its raw value is the name the API's and the console's `sort=` use).
public protocol SortColumn: RawRepresentable, CaseIterable, Hashable, Sendable where RawValue == String {
    /// The listing's order when none is asked for.
    static var standard: Self { get }
}

/// The order a listing is read in: a column, ascending or descending, written `name` or `-name` in the API's and
/// the console's `sort=` parameter. Each order pages by its own keyset (the column's value, then the row's key),
/// so a page never repeats or skips a row however the listing changes between pages.
public struct ListingSort<Column: SortColumn>: Hashable, Sendable {
    public let column: Column
    public let descending: Bool

    public init(_ column: Column = .standard, descending: Bool = false) {
        self.column = column
        self.descending = descending
    }

    /// Reads `name` or `-name`; nil for anything else.
    public init?(parameter: String) {
        let descending = parameter.hasPrefix("-")
        guard let column = Column(rawValue: descending ? String(parameter.dropFirst()) : parameter) else {
            return nil
        }
        self.init(column, descending: descending)
    }

    /// How `sort=` writes this order.
    public var parameter: String { (descending ? "-" : "") + column.rawValue }

    /// Every value `sort=` accepts.
    public static var parameters: [String] { Column.allCases.flatMap { [$0.rawValue, "-" + $0.rawValue] } }
}

/// The orders of the device listing.
public enum DeviceSortColumn: String, SortColumn {
    case serial, name, enrollment
    public static let standard = DeviceSortColumn.serial
}

/// The orders of the licence listing (`id`: the stable order /v1 has always paged in).
public enum LicenceSortColumn: String, SortColumn {
    case id, assignee, app, state, since
    public static let standard = LicenceSortColumn.id
}

/// Where a sorted page starts: after the row whose sort value and key (the tie-breaker: a serial, a licence id)
/// are these.
public struct ListingPosition<Key: Hashable & Sendable>: Hashable, Sendable {
    /// A sort column's value as the store compares it.
    public enum Value: Hashable, Sendable {
        case text(String)
        /// Times, as the store keeps them: milliseconds since 1970.
        case number(Int64)
    }

    public let value: Value
    public let key: Key

    public init(_ value: Value, key: Key) {
        self.value = value
        self.key = key
    }
}

/// A sorted listing's opaque cursor: the order it belongs to and the position after the page's last row,
/// versioned by `prefix` (the listing's; a listing's first cursors, in its standard order, stay readable).
enum SortedCursor {
    struct Content: Codable {
        /// The order, as `sort=` writes it.
        let s: String
        let text: String?
        let number: Int64?
        /// The key, as text.
        let k: String
    }

    static func encode<Column, Key>(
        prefix: String,
        _ sort: ListingSort<Column>,
        _ position: ListingPosition<Key>,
        key: String
    ) -> String {
        let content: Content
        switch position.value {
        case .text(let text): content = Content(s: sort.parameter, text: text, number: nil, k: key)
        case .number(let number): content = Content(s: sort.parameter, text: nil, number: number, k: key)
        }
        let data = (try? JSONEncoder().encode(content)) ?? Data()
        return prefix + data.base64EncodedString()
    }

    /// The position a cursor holds, when it is one of this listing's in `sort`'s order.
    static func decode<Column, Key>(
        _ cursor: String,
        prefix: String,
        _ sort: ListingSort<Column>,
        key: (String) -> Key?
    ) -> ListingPosition<Key>? {
        guard cursor.hasPrefix(prefix), cursor.count < 1200,
            let data = Data(base64Encoded: String(cursor.dropFirst(prefix.count))),
            let content = try? JSONDecoder().decode(Content.self, from: data), content.s == sort.parameter,
            let key = key(content.k)
        else { return nil }
        if let text = content.text { return ListingPosition(.text(text), key: key) }
        if let number = content.number { return ListingPosition(.number(number), key: key) }
        return nil
    }
}
