import Foundation
import VPPDomain

/// Filters of `GET assets`.
public struct AppleAssetFilter: Hashable, Sendable {
    public var adamID: String?
    public var pricingParam: PricingParam?
    public var productType: ProductType?
    public var revocable: Bool?
    public var deviceAssignable: Bool?
    public var minAvailableCount: Int?
    public var maxAvailableCount: Int?
    public var minAssignedCount: Int?
    public var maxAssignedCount: Int?

    public init(
        adamID: String? = nil,
        pricingParam: PricingParam? = nil,
        productType: ProductType? = nil,
        revocable: Bool? = nil,
        deviceAssignable: Bool? = nil,
        minAvailableCount: Int? = nil,
        maxAvailableCount: Int? = nil,
        minAssignedCount: Int? = nil,
        maxAssignedCount: Int? = nil
    ) {
        self.adamID = adamID
        self.pricingParam = pricingParam
        self.productType = productType
        self.revocable = revocable
        self.deviceAssignable = deviceAssignable
        self.minAvailableCount = minAvailableCount
        self.maxAvailableCount = maxAvailableCount
        self.minAssignedCount = minAssignedCount
        self.maxAssignedCount = maxAssignedCount
    }
}
