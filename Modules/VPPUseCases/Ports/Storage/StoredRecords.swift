import Foundation
import VPPDomain

/// A secret sealed by a ``SecretBox``: ciphertext plus the id of the key that sealed it.
public struct SealedSecret: Hashable, Sendable {
    public let keyID: String
    public let ciphertext: [UInt8]

    public init(keyID: String, ciphertext: [UInt8]) {
        self.keyID = keyID
        self.ciphertext = ciphertext
    }
}

/// An API key as stored: only its SHA-256 hash, never the key.
public struct APIKeyRecord: Hashable, Sendable {
    public let id: UUID
    public let tenantID: TenantID
    public let name: String
    public let role: Role
    /// Lower-case hex SHA-256 of the whole key.
    public let keyHash: String
    public let createdAt: Date

    public init(id: UUID = UUID(), tenantID: TenantID, name: String, role: Role, keyHash: String, createdAt: Date) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.role = role
        self.keyHash = keyHash
        self.createdAt = createdAt
    }
}

/// A repository entry: one per (adamId, pricingParam) per tenant, with its store metadata when known.
public struct AppRecord: Hashable, Sendable {
    public var asset: Asset
    public var metadata: AppMetadata?

    public init(asset: Asset, metadata: AppMetadata? = nil) {
        self.asset = asset
        self.metadata = metadata
    }
}

/// One token's licence counts for one app, as last synced and adjusted by our reservations.
public struct TokenAssetCounts: Hashable, Sendable {
    public let tokenID: TokenID
    public let asset: AssetKey
    public let counts: LicenceCounts

    public init(tokenID: TokenID, asset: AssetKey, counts: LicenceCounts) {
        self.tokenID = tokenID
        self.asset = asset
        self.counts = counts
    }
}

/// Where a token's sync stands.
public struct TokenSyncState: Hashable, Sendable {
    public var tokenID: TokenID
    /// The `versionId` of the last complete assignment walk, for `sinceVersionId`.
    public var assignmentsVersionID: String?
    public var lastSuccessAt: Date?
    public var lastAttemptAt: Date?
    public var lastError: String?
    public var consecutiveFailures: Int

    public init(
        tokenID: TokenID,
        assignmentsVersionID: String? = nil,
        lastSuccessAt: Date? = nil,
        lastAttemptAt: Date? = nil,
        lastError: String? = nil,
        consecutiveFailures: Int = 0
    ) {
        self.tokenID = tokenID
        self.assignmentsVersionID = assignmentsVersionID
        self.lastSuccessAt = lastSuccessAt
        self.lastAttemptAt = lastAttemptAt
        self.lastError = lastError
        self.consecutiveFailures = consecutiveFailures
    }
}

/// Which assignments to read.
public struct AssignmentQuery: Hashable, Sendable {
    public var asset: AssetKey?
    public var tokenID: TokenID?
    public var assignee: Assignee?
    public var states: Set<AssignmentState.Code>?
    public var eventID: String?
    /// Just these licences.
    public var ids: Set<AssignmentID>?
    /// Just the licences of these devices and users (a page's worth, a reservation batch's: one statement; an
    /// empty set matches none).
    public var assignees: Set<Assignee>?
    /// Keyset paging: licences after this one in id order (set `limit` too).
    public var after: AssignmentID?
    /// At most this many, in id order (a stable order for paging) unless `sort` says another.
    public var limit: Int?
    /// Another order for a page (with `limit`): the column's value, then the id.
    public var sort: ListingSort<LicenceSortColumn>?
    /// Keyset paging in `sort`'s order: licences after this position.
    public var position: ListingPosition<AssignmentID>?

    public init(
        asset: AssetKey? = nil,
        tokenID: TokenID? = nil,
        assignee: Assignee? = nil,
        states: Set<AssignmentState.Code>? = nil,
        eventID: String? = nil,
        ids: Set<AssignmentID>? = nil
    ) {
        self.asset = asset
        self.tokenID = tokenID
        self.assignee = assignee
        self.states = states
        self.eventID = eventID
        self.ids = ids
    }
}

/// An e-mail notice, unique per (token, kind, expiry date) so it happens once however many servers run.
public struct Notice: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        case expiresIn30Days = "expiry-30"
        case expiresIn15Days = "expiry-15"
        case expiresIn7Days = "expiry-7"
        case expiresIn1Day = "expiry-1"
        case expired, revoked
        case inUseElsewhere = "in-use-elsewhere"
        case syncFailing = "sync-failing"
        /// An app's licences fell below its alert level (``AppAlert``): once per crossing, keyed by its time.
        case licencesLow = "licences-low"
    }

    public let id: UUID
    public let tokenID: TokenID
    public let kind: Kind
    /// The token's expiry the notice is about; renewal changes it and so restarts the cycle.
    public let tokenExpiresAt: Date
    public let recipients: [String]
    public let subject: String
    public let body: String
    public var attempts: Int
    public var nextAttemptAt: Date
    public var sentAt: Date?
    public var lastError: String?

    public init(
        id: UUID = UUID(),
        tokenID: TokenID,
        kind: Kind,
        tokenExpiresAt: Date,
        recipients: [String],
        subject: String,
        body: String,
        attempts: Int = 0,
        nextAttemptAt: Date,
        sentAt: Date? = nil,
        lastError: String? = nil
    ) {
        self.id = id
        self.tokenID = tokenID
        self.kind = kind
        self.tokenExpiresAt = tokenExpiresAt
        self.recipients = recipients
        self.subject = subject
        self.body = body
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.sentAt = sentAt
        self.lastError = lastError
    }
}

/// Who did what, when, and how it ended.
public struct AuditRecord: Hashable, Sendable {
    public let id: UUID
    public let at: Date
    public let actor: String
    public let action: String
    public let target: String
    public let outcome: String
    public let detail: String

    public init(
        id: UUID = UUID(),
        at: Date,
        actor: String,
        action: String,
        target: String,
        outcome: String,
        detail: String = ""
    ) {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.outcome = outcome
        self.detail = detail
    }
}

/// An Apple event we are waiting for (assign or revoke), polled with Apple's etiquette.
public struct PendingAppleEvent: Hashable, Sendable {
    public let eventID: String
    public let tokenID: TokenID
    public let kind: String
    public let createdAt: Date
    public var nextPollAt: Date

    public init(eventID: String, tokenID: TokenID, kind: String, createdAt: Date, nextPollAt: Date) {
        self.eventID = eventID
        self.tokenID = tokenID
        self.kind = kind
        self.createdAt = createdAt
        self.nextPollAt = nextPollAt
    }
}
