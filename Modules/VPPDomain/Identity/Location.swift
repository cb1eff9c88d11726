import Foundation

/// An Apple Business/School Manager location ("library"): the unit a content token belongs to.
public struct Location: Hashable, Sendable, Codable {
    /// Apple's `uId`; the location's identity. Falls back to the location name when Apple sends no `uId`.
    public let appleID: String
    /// Apple's `locationName`.
    public var name: String
    /// Apple's `countryISO2ACode`, upper-cased (e.g. "US"); the storefront for metadata lookups.
    public var countryCode: String

    public init(appleID: String?, name: String, countryCode: String) {
        let trimmedID = appleID?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        self.appleID = trimmedID.isEmpty ? name : trimmedID
        self.name = name
        self.countryCode = countryCode.uppercased()
    }

    /// True when both values denote the same Apple location.
    public func isSameLocation(as other: Location) -> Bool { appleID == other.appleID }
}
