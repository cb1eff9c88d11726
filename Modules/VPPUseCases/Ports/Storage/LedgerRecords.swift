import Foundation
import VPPDomain

/// A queued Apple write (a reserved licence to associate, or a queued revoke) claimed by one worker.
public struct ClaimedIntent: Hashable, Sendable {
    public let assignment: Assignment
    /// How many times a worker has claimed it, this claim included. Above one the earlier worker may have
    /// reached Apple before it died, so Apple is asked what it holds before the request is sent again.
    public let attempts: Int

    public init(assignment: Assignment, attempts: Int) {
        self.assignment = assignment
        self.attempts = attempts
    }
}

/// Queued intents of one tenant, token and asset that a worker may carry out together.
public struct IntentGroup: Hashable, Sendable {
    public let tenantID: TenantID
    public let tokenID: TokenID
    public let asset: AssetKey
    public let state: AssignmentState.Code

    public init(tenantID: TenantID, tokenID: TokenID, asset: AssetKey, state: AssignmentState.Code) {
        self.tenantID = tenantID
        self.tokenID = tokenID
        self.asset = asset
        self.state = state
    }
}

/// What merging Apple's assignment list changed.
public struct MergeOutcome: Hashable, Sendable {
    /// Apple's assignments we had no row for.
    public var inserted: Int
    /// Our rows Apple no longer lists (a full snapshot only).
    public var deleted: Int
    /// Our rows Apple turned out to hold (reserved, pending, failed or revoked before): now active.
    public var confirmed: [Assignment]
    /// Our rows whose revoke Apple carried out (it no longer lists them): now revoked.
    public var revoked: [Assignment]

    public init(inserted: Int = 0, deleted: Int = 0, confirmed: [Assignment] = [], revoked: [Assignment] = []) {
        self.inserted = inserted
        self.deleted = deleted
        self.confirmed = confirmed
        self.revoked = revoked
    }
}
