import Foundation
import VPPDomain

/// One of Apple's notifications (the webhook at `/apple/notifications/{tokenId}`), decoded and checked by
/// the edge that received it: the use case sees typed values, never Apple's JSON.
public struct AppleNotification: Sendable, Hashable {
    /// Apple's `notificationId`: the same notification may arrive more than once.
    public let id: String
    /// Apple's `notificationType` as sent (recorded with the notification, whatever it is).
    public let type: String
    public let kind: Kind

    /// What the notification says, for the types vpp acts on.
    public enum Kind: Sendable, Hashable {
        /// Apple checking the endpoint while notifications are configured.
        case test
        /// An event (associate, disassociate, …) progressed; `eventID` names it when Apple says which.
        case assetManagement(eventID: String?)
        /// Licences were bought, transferred or refunded; `change` when Apple says which app and by how much.
        case assetCount(AssetCountChange?)
        /// Users changed at Apple (`USER_MANAGEMENT`, `USER_ASSOCIATED`).
        case usersChanged
        /// A type vpp does not act on: it is recorded, not refused.
        case other
    }

    public init(id: String, type: String, kind: Kind) {
        self.id = id
        self.type = type
        self.kind = kind
    }
}

/// Apple's ASSET_COUNT facts: one app's licence total moved by `delta`.
public struct AssetCountChange: Sendable, Hashable {
    public let asset: AssetKey
    public let delta: Int

    public init(asset: AssetKey, delta: Int) {
        self.asset = asset
        self.delta = delta
    }
}
