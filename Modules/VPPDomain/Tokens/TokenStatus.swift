import Foundation

/// What a content token can do now, and what the admin should do about it.
public enum TokenStatus: Hashable, Sendable {
    /// Usable; more than 30 days left.
    case active(daysLeft: Int)
    /// Usable; 30 days or fewer left.
    case expiringSoon(daysLeft: Int)
    /// Past its expiry date.
    case expired(since: Date)
    /// Apple answered 9625.
    case revoked(since: Date)
    /// Apple answered 9622 or 9601.
    case invalid(since: Date)
    /// Another MDM server, another tenant of ours, or Apple Configurator holds the token.
    case inUseElsewhere(holder: HolderIdentity)

    /// Whether the token may sync and grant new licences. Unusable tokens revoke nothing either:
    /// installed apps keep working.
    public var isUsable: Bool {
        switch self {
        case .active, .expiringSoon: true
        case .expired, .revoked, .invalid, .inUseElsewhere: false
        }
    }

    /// The status without its details: the stable machine-readable names of JSON and CSV output, declared once.
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        case active
        case expiringSoon = "expiring_soon"
        case expired, revoked, invalid
        case inUseElsewhere = "in_use_elsewhere"
    }

    public var kind: Kind {
        switch self {
        case .active: .active
        case .expiringSoon: .expiringSoon
        case .expired: .expired
        case .revoked: .revoked
        case .invalid: .invalid
        case .inUseElsewhere: .inUseElsewhere
        }
    }

    /// A stable machine-readable name, used in JSON and CSV output (``Kind``'s raw value).
    public var code: String { kind.rawValue }

    /// One sentence telling the admin what to do next, in no face's syntax (REST, console, e-mail and CLI all show
    /// it; each face names its own command or button for "renew" and "take over").
    public var nextStep: String {
        switch self {
        case .active:
            "Nothing to do."
        case .expiringSoon(let days):
            "Download a new token from Apple Business Manager and renew this one with it within \(days) "
                + "day\(days == 1 ? "" : "s")."
        case .expired:
            "Download a new token for this location from Apple Business Manager and renew this one with it; "
                + "installed apps keep working meanwhile."
        case .revoked:
            "The token was revoked in Apple Business Manager: download a new one and renew this token with it."
        case .invalid:
            "Apple no longer accepts this token (often because the account's password changed): download a new one and "
                + "renew this token with it."
        case .inUseElsewhere(let holder):
            "\(holder) manages this token: stop using it there, or preview a take-over of it and then confirm it."
        }
    }
}
