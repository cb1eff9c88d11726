import Foundation
import VPPDomain

/// An app with its pooled licence counts, as the CLI's `--json` and the REST API show it.
public struct AppView: Encodable, Sendable, Hashable {
    public let adamId: String
    public let pricingParam: String
    public let name: String?
    public let bundleId: String?
    public let version: String?
    public let iconUrl: String?
    public let productType: String
    public let platforms: [String]
    public let deviceAssignable: Bool
    public let revocable: Bool
    public let total: Int
    public let assigned: Int
    public let available: Int

    public init(_ app: AppRecord, pool: LicenceCounts) {
        adamId = app.asset.key.adamID
        pricingParam = app.asset.key.pricingParam.rawValue
        name = app.metadata?.name
        bundleId = app.metadata?.bundleID
        version = app.metadata?.version
        iconUrl = app.metadata?.iconURL?.absoluteString
        productType = app.asset.productType.rawValue
        platforms = app.asset.platforms.map(\.rawValue).sorted()
        deviceAssignable = app.asset.isDeviceAssignable
        revocable = app.asset.isRevocable
        total = pool.total
        assigned = pool.assigned
        available = pool.available
    }
}
