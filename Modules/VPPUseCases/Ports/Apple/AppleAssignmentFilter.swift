import Foundation
import VPPDomain

/// Filters of `GET assignments`.
public struct AppleAssignmentFilter: Hashable, Sendable {
    public var adamID: String?
    public var pricingParam: PricingParam?
    public var serialNumber: String?
    public var clientUserID: String?
    /// Only what changed since this `versionId` (an incremental sync).
    public var sinceVersionID: String?

    public init(
        adamID: String? = nil, pricingParam: PricingParam? = nil, serialNumber: String? = nil,
        clientUserID: String? = nil, sinceVersionID: String? = nil
    ) {
        self.adamID = adamID
        self.pricingParam = pricingParam
        self.serialNumber = serialNumber
        self.clientUserID = clientUserID
        self.sinceVersionID = sinceVersionID
    }
}
