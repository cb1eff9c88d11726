import Foundation

/// Who holds a licence: a device (by serial number, no Apple Account) or a managed user.
public enum Assignee: Hashable, Sendable, Codable, CustomStringConvertible {
    case device(SerialNumber)
    case user(ClientUserID)

    public var description: String {
        switch self {
        case .device(let serial): "device \(serial.value)"
        case .user(let user): "user \(user.value)"
        }
    }
}

/// Where a licence is in its life. Apple's writes are asynchronous, so a licence is first reserved in
/// our database, then pending at Apple (with an event id), and only then active.
public enum AssignmentState: Hashable, Sendable, Codable {
    /// Counted against the pool in our database; not yet sent to Apple.
    case reserved
    /// Sent to Apple; waiting for the event to complete.
    case pending(eventID: String)
    /// Apple confirmed the licence.
    case active
    /// Apple refused; the reservation was released.
    case failed(reason: String)
    /// A revoke was sent to Apple.
    case revoking(eventID: String)
    /// Apple confirmed the revoke; the licence is back in the pool.
    case revoked

    public var code: String {
        switch self {
        case .reserved: "reserved"
        case .pending: "pending"
        case .active: "active"
        case .failed: "failed"
        case .revoking: "revoking"
        case .revoked: "revoked"
        }
    }

    /// Whether the licence counts against the pool in this state.
    public var holdsLicence: Bool {
        switch self {
        case .reserved, .pending, .active, .revoking: true
        case .failed, .revoked: false
        }
    }

    /// The transitions the licence lifecycle allows.
    public func canMove(to next: AssignmentState) -> Bool {
        switch (self, next) {
        case (.reserved, .pending), (.reserved, .failed), (.reserved, .active): true
        case (.pending, .active), (.pending, .failed), (.pending, .pending): true
        case (.active, .revoking): true
        case (.revoking, .revoked), (.revoking, .active), (.revoking, .revoking): true
        default: false
        }
    }
}

/// One licence of one asset held by one assignee, with the token that granted it.
public struct Assignment: Hashable, Sendable, Codable {
    public let id: AssignmentID
    public let tenantID: TenantID
    public let asset: AssetKey
    public let assignee: Assignee
    public let grantingToken: TokenID
    public private(set) var state: AssignmentState

    public init(
        id: AssignmentID = AssignmentID(),
        tenantID: TenantID,
        asset: AssetKey,
        assignee: Assignee,
        grantingToken: TokenID,
        state: AssignmentState = .reserved
    ) {
        self.id = id
        self.tenantID = tenantID
        self.asset = asset
        self.assignee = assignee
        self.grantingToken = grantingToken
        self.state = state
    }

    /// Moves to `next`, refusing transitions the lifecycle does not allow.
    public mutating func move(to next: AssignmentState) throws(LicenceError) {
        guard state.canMove(to: next) else { throw .invalidTransition(from: state, to: next) }
        state = next
    }
}
