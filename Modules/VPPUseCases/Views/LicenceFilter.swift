import Foundation
import VPPDomain

/// Which licences to list, and where a page starts.
public struct LicenceFilter: Hashable, Sendable {
    public var asset: AssetKey?
    public var tokenID: TokenID?
    public var assignee: Assignee?
    public var states: Set<AssignmentState.Code>?

    public init(
        asset: AssetKey? = nil,
        tokenID: TokenID? = nil,
        assignee: Assignee? = nil,
        states: Set<AssignmentState.Code>? = nil
    ) {
        self.asset = asset
        self.tokenID = tokenID
        self.assignee = assignee
        self.states = states
    }
}
