import Foundation
import VPPDomain

/// Apple's `service/config` limits (dynamic; re-read at most every 5 minutes).
public struct AppleServiceLimits: Hashable, Sendable {
    public var maxAssets = 25
    public var maxSerialNumbers = 1000
    public var maxClientUserIds = 1000
    public var maxRevokeSerialNumbers = 100
    public var maxRevokeClientUserIds = 100
    public var maxUsers = 100
    public var maxRequestPerSecond = 15
    public var maxNotificationLength = 512
    /// `urls.contentMetadataLookup`, when Apple gives it.
    public var contentMetadataLookupURL: String?

    public init() {}
}
