import Foundation

/// A content token as vpp knows it: the facts learnt from the `.vpptoken` file and from Apple.
///
/// The secret itself is not part of this value (it lives encrypted in storage); only its
/// fingerprint is, so a `ContentToken` can be logged, listed and returned safely.
/// Its status is never stored: it is computed from these facts and a clock by ``status(at:ourHolder:)``.
public struct ContentToken: Hashable, Sendable, Codable {
    public let id: TokenID
    public let tenantID: TenantID
    public var location: Location
    /// `orgName` from the token file.
    public var organizationName: String
    /// `expDate` from the token file (or Apple's `tokenExpirationDate` when it differs).
    public var expiresAt: Date
    /// Short SHA-256 fingerprint of the secret, for telling files apart without revealing them.
    public var secretFingerprint: String
    /// Addresses that receive expiry and health notices.
    public var noticeRecipients: [String]
    /// Apple answered 9625: the token was revoked in Apple Business/School Manager.
    public var revokedAt: Date?
    /// Apple answered 9622/9601: the token is no longer valid (e.g. the ABM account's password changed).
    public var invalidSince: Date?
    /// The `mdmInfo` Apple echoed most recently; `nil` when nobody has claimed the token yet.
    public var observedHolder: HolderIdentity?

    public init(
        id: TokenID = TokenID(),
        tenantID: TenantID,
        location: Location,
        organizationName: String,
        expiresAt: Date,
        secretFingerprint: String,
        noticeRecipients: [String] = [],
        revokedAt: Date? = nil,
        invalidSince: Date? = nil,
        observedHolder: HolderIdentity? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.location = location
        self.organizationName = organizationName
        self.expiresAt = expiresAt
        self.secretFingerprint = secretFingerprint
        self.noticeRecipients = noticeRecipients
        self.revokedAt = revokedAt
        self.invalidSince = invalidSince
        self.observedHolder = observedHolder
    }

    /// Tokens whose expiry is this close count as "expiring soon".
    public static let expiringSoonWindow: TimeInterval = 30 * 86_400

    /// The token's status now, from its facts.
    ///
    /// Precedence, most severe first: revoked, invalid, expired, in use elsewhere, expiring soon,
    /// active. An expired token that another MDM also claims reports "expired", because renewing
    /// is the first thing the admin must do either way.
    /// - Parameters:
    ///   - now: the injected clock's reading.
    ///   - ourHolder: the identity our tenant writes into `mdmInfo`.
    public func status(at now: Date, ourHolder: HolderIdentity) -> TokenStatus {
        if let revokedAt { return .revoked(since: revokedAt) }
        if let invalidSince { return .invalid(since: invalidSince) }
        if expiresAt <= now { return .expired(since: expiresAt) }
        if let holder = observedHolder, !holder.isSameHolder(as: ourHolder) {
            return .inUseElsewhere(holder: holder)
        }
        let daysLeft = Self.wholeDaysLeft(until: expiresAt, from: now)
        if expiresAt.timeIntervalSince(now) <= Self.expiringSoonWindow {
            return .expiringSoon(daysLeft: daysLeft)
        }
        return .active(daysLeft: daysLeft)
    }

    /// Days left, rounded up: a token expiring in 36 hours has 2 days left, in 1 second 1 day.
    public static func wholeDaysLeft(until expiry: Date, from now: Date) -> Int {
        let seconds = expiry.timeIntervalSince(now)
        guard seconds > 0 else { return 0 }
        return Int((seconds / 86_400).rounded(.up))
    }
}
