import Foundation

/// An identifier that carries the type it identifies, so a `TokenID` can never be passed where a
/// `TenantID` is expected.
///
/// The `Tag` is a phantom type: it only exists at compile time.
public struct TypedID<Tag>: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    /// The underlying UUID, as stored in databases and shown in URLs.
    public let rawValue: UUID

    /// Wraps an existing UUID.
    public init(_ rawValue: UUID) { self.rawValue = rawValue }

    /// A fresh random identifier.
    public init() { self.rawValue = UUID() }

    /// Parses the canonical UUID text form; `nil` when `text` is not a UUID.
    public init?(uuidString text: String) {
        guard let uuid = UUID(uuidString: text) else { return nil }
        self.rawValue = uuid
    }

    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(UUID.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// Lower-case canonical UUID text.
    public var description: String { rawValue.uuidString.lowercased() }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.description < rhs.description }
}

public typealias TenantID = TypedID<Tenant>
public typealias TokenID = TypedID<ContentToken>
public typealias AdminID = TypedID<Admin>
public typealias AssignmentID = TypedID<Assignment>
