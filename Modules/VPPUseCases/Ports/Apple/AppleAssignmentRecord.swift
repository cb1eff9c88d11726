import Foundation
import VPPDomain

/// Who an Apple assignment is for, as Apple spells it (not yet validated against our rules).
public enum AppleAssignee: Hashable, Sendable {
    case serialNumber(String)
    case clientUserID(String)
}

/// One assignment from `GET assignments`.
public struct AppleAssignmentRecord: Hashable, Sendable {
    public var asset: AssetKey
    public var assignee: AppleAssignee

    public init(asset: AssetKey, assignee: AppleAssignee) {
        self.asset = asset
        self.assignee = assignee
    }
}
