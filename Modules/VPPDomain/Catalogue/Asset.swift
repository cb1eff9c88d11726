import Foundation

/// Apple's pricing quality for an asset: `STDQ` (standard) or `PLUS` (high quality).
public enum PricingParam: String, Hashable, Sendable, Codable, CaseIterable {
    case standard = "STDQ"
    case plus = "PLUS"
}

/// `App` or `Book`; books cannot be assigned to devices.
public enum ProductType: String, Hashable, Sendable, Codable, CaseIterable {
    case app = "App"
    case book = "Book"
}

/// A platform an asset supports, as Apple names it.
public enum Platform: String, Hashable, Sendable, Codable, CaseIterable {
    case iOS, macOS, tvOS, watchOS, visionOS
}

/// An asset's identity at Apple: the pair (adamId, pricingParam).
public struct AssetKey: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    /// Apple's store product id, kept as text because Apple sends it as a string.
    public let adamID: String
    public let pricingParam: PricingParam

    public init(adamID: String, pricingParam: PricingParam = .standard) {
        self.adamID = adamID
        self.pricingParam = pricingParam
    }

    public var description: String { "\(adamID)/\(pricingParam.rawValue)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.adamID, lhs.pricingParam.rawValue) < (rhs.adamID, rhs.pricingParam.rawValue)
    }
}

/// An app or book bought on one or more tokens: one repository entry per tenant.
public struct Asset: Hashable, Sendable, Codable {
    public let key: AssetKey
    public var productType: ProductType
    public var platforms: Set<Platform>
    /// Whether a licence can be assigned to a device serial number (no Apple Account).
    public var isDeviceAssignable: Bool
    /// Whether Apple lets us take a licence back.
    public var isRevocable: Bool

    public init(
        key: AssetKey,
        productType: ProductType,
        platforms: Set<Platform>,
        isDeviceAssignable: Bool,
        isRevocable: Bool
    ) {
        self.key = key
        self.productType = productType
        self.platforms = platforms
        self.isDeviceAssignable = isDeviceAssignable
        self.isRevocable = isRevocable
    }

    /// Checks that this asset may be assigned to `assignee`, before any licence is reserved.
    public func checkAssignable(to assignee: Assignee) throws(LicenceError) {
        guard case .device = assignee else { return }
        if productType == .book { throw .bookToDevice(key) }
        if !isDeviceAssignable { throw .notDeviceAssignable(key) }
    }

    /// Checks that a licence of this asset may be taken back.
    public func checkRevocable() throws(LicenceError) {
        if !isRevocable { throw .notRevocable(key) }
    }
}
