import Foundation
import VPPDomain

/// One asset with its counts, from `GET assets`.
public struct AppleAssetRecord: Hashable, Sendable {
    public var asset: Asset
    public var counts: LicenceCounts

    public init(asset: Asset, counts: LicenceCounts) {
        self.asset = asset
        self.counts = counts
    }
}
