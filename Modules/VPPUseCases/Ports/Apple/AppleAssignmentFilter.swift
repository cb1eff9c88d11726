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
        adamID: String? = nil,
        pricingParam: PricingParam? = nil,
        serialNumber: String? = nil,
        clientUserID: String? = nil,
        sinceVersionID: String? = nil
    ) {
        self.adamID = adamID
        self.pricingParam = pricingParam
        self.serialNumber = serialNumber
        self.clientUserID = clientUserID
        self.sinceVersionID = sinceVersionID
    }

    /// Whether Apple's `record` is one this filter asks for. Apple's answer to a filtered query is read, not
    /// trusted: a record that does not match (an answer that ignored the filter) is no evidence of anything.
    public func matches(_ record: AppleAssignmentRecord) -> Bool {
        if let adamID, record.asset.adamID != adamID { return false }
        if let pricingParam, record.asset.pricingParam != pricingParam { return false }
        if let serialNumber, record.assignee != .serialNumber(serialNumber) { return false }
        if let clientUserID, record.assignee != .clientUserID(clientUserID) { return false }
        return true
    }
}
