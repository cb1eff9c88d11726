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

/// Where a licence is in its life: the one state machine every movement of a licence goes through.
///
/// Apple's writes are asynchronous, so a licence is first reserved in our database (the reservation is
/// itself the durable intent to ask Apple), then pending at Apple (with an event id), and only then
/// active. A revoke is queued first too, then sent (revoking), then confirmed (revoked).
public enum AssignmentState: Hashable, Sendable, Codable {
    /// Counted against the pool in our database; the intent to ask Apple is queued (not yet confirmed sent).
    case reserved
    /// Sent to Apple; waiting for the event to complete.
    case pending(eventID: String)
    /// Apple holds the licence.
    case active
    /// Apple refused, or the reservation was cancelled; the licence went back to the pool. Says why.
    case failed(reason: String)
    /// A revoke is queued (the durable intent to ask Apple to disassociate); still counted.
    case revocationQueued
    /// A revoke was sent to Apple.
    case revoking(eventID: String)
    /// Apple confirmed the revoke; the licence is back in the pool.
    case revoked

    /// The stored code of each state (no other value is readable: see ``init(code:eventID:reason:)``).
    public enum Code: String, Hashable, Sendable, Codable, CaseIterable {
        case reserved, pending, active, failed
        case revocationQueued = "revocation-queued"
        case revoking, revoked

        /// Whether a licence in this state counts against the pool.
        public var holdsLicence: Bool {
            switch self {
            case .reserved, .pending, .active, .revocationQueued, .revoking: true
            case .failed, .revoked: false
            }
        }

        /// Codes of every state that holds a licence.
        public static let holding: Set<Code> = Set(allCases.filter(\.holdsLicence))

        /// Whether Apple has confirmed this licence, so it is among the assignments Apple lists and counts. A
        /// reserved or pending licence holds one in vpp that Apple may not have counted yet.
        public var isConfirmedByApple: Bool {
            switch self {
            case .active, .revocationQueued, .revoking: true
            case .reserved, .pending, .failed, .revoked: false
            }
        }

        /// Whether the licence is on its way at Apple (a request or a revoke not settled yet): pages that show it
        /// refresh until it settles.
        public var isSettling: Bool {
            switch self {
            case .reserved, .pending, .revocationQueued, .revoking: true
            case .active, .failed, .revoked: false
            }
        }

        /// Codes of every state Apple has confirmed.
        public static let confirmed: Set<Code> = Set(allCases.filter(\.isConfirmedByApple))
    }

    public var stateCode: Code {
        switch self {
        case .reserved: .reserved
        case .pending: .pending
        case .active: .active
        case .failed: .failed
        case .revocationQueued: .revocationQueued
        case .revoking: .revoking
        case .revoked: .revoked
        }
    }

    /// The code as text (for listings and JSON).
    public var code: String { stateCode.rawValue }

    /// Rebuilds a stored state. An event id is required where the state has one.
    public init(code: Code, eventID: String?, reason: String?) throws(LicenceError) {
        switch code {
        case .reserved: self = .reserved
        case .pending:
            guard let eventID else { throw .unreadableState("pending without an event id") }
            self = .pending(eventID: eventID)
        case .active: self = .active
        case .failed: self = .failed(reason: reason ?? "")
        case .revocationQueued: self = .revocationQueued
        case .revoking:
            guard let eventID else { throw .unreadableState("revoking without an event id") }
            self = .revoking(eventID: eventID)
        case .revoked: self = .revoked
        }
    }

    /// The Apple event this state waits for, if any.
    public var eventID: String? {
        switch self {
        case .pending(let event), .revoking(let event): event
        default: nil
        }
    }

    /// Why the licence failed, if it did.
    public var reason: String? {
        if case .failed(let reason) = self { reason } else { nil }
    }

    /// Whether the licence counts against the pool in this state.
    public var holdsLicence: Bool { stateCode.holdsLicence }

    /// The transitions the licence lifecycle allows.
    public func canMove(to next: AssignmentState) -> Bool {
        switch (stateCode, next.stateCode) {
        // Sent, refused or cancelled, or found already held at Apple (a recovered intent or a sync).
        case (.reserved, .pending), (.reserved, .failed), (.reserved, .active): true
        // Confirmed, refused; a new event when Apple kept it PENDING too long and the request is re-sent.
        case (.pending, .active), (.pending, .failed), (.pending, .pending), (.pending, .reserved): true
        case (.active, .revocationQueued), (.active, .revoked): true
        case (.revocationQueued, .revoking), (.revocationQueued, .revoked), (.revocationQueued, .active): true
        case (.revoking, .revoked), (.revoking, .active), (.revoking, .revoking), (.revoking, .revocationQueued): true
        // Apple's own list is the truth: a sync that finds the licence held brings it back.
        case (.failed, .active), (.revoked, .active): true
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
    /// A revoke was asked for while Apple had not settled the assignment: carried out once it does.
    public var revokeRequested: Bool
    /// When the ledger last recorded a change of this licence (its state, its attempt); nil until it is stored.
    public var changedAt: Date?

    public init(
        id: AssignmentID = AssignmentID(),
        tenantID: TenantID,
        asset: AssetKey,
        assignee: Assignee,
        grantingToken: TokenID,
        state: AssignmentState = .reserved,
        revokeRequested: Bool = false,
        changedAt: Date? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.asset = asset
        self.assignee = assignee
        self.grantingToken = grantingToken
        self.state = state
        self.revokeRequested = revokeRequested
        self.changedAt = changedAt
    }

    /// Moves to `next`, refusing transitions the lifecycle does not allow.
    public mutating func move(to next: AssignmentState) throws(LicenceError) {
        guard state.canMove(to: next) else { throw .invalidTransition(from: state, to: next) }
        state = next
    }
}
