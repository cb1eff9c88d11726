import Foundation
import VPPDomain

/// What every authenticated Apple response says about the token.
public struct AppleResponseContext: Hashable, Sendable {
    public var locationUID: String?
    public var tokenExpiresAt: Date?
    public var holder: HolderIdentity?

    public init(locationUID: String? = nil, tokenExpiresAt: Date? = nil, holder: HolderIdentity? = nil) {
        self.locationUID = locationUID
        self.tokenExpiresAt = tokenExpiresAt
        self.holder = holder
    }
}
