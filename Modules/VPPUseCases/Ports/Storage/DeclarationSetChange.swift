import Foundation
import VPPDomain

/// A device's enrollment joining or leaving an app's declaration set (the declaration outbox).
///
/// A change is made for a licence and carries its ``AssignmentID``; the store keeps at most one change of each
/// kind per licence, so however many times and on whichever server vpp learns that Apple granted (or took back)
/// a licence, the device joins (or leaves) the set once.
public struct DeclarationSetChange: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable, CaseIterable, Codable {
        /// The licence is active at Apple: the enrollment may now evaluate the app's declaration.
        case join
        /// The licence is going: the enrollment leaves the set, and the device removes the app.
        case leave
    }

    public let id: UUID
    /// The device whose enrollment joins or leaves (empty for a user licence's change).
    public let serialNumber: String
    /// The user whose enrollment joins or leaves, for a user licence (`licenceKind` ``LicenceAssignmentKind/user``).
    public let clientUserID: ClientUserID?
    public let asset: AssetKey
    /// The kind of licence the declaration names (`InstallBehavior.License.Assignment`).
    public let licenceKind: LicenceAssignmentKind
    public let kind: Kind
    public let assignmentID: AssignmentID
    public let createdAt: Date

    public init(
        id: UUID = UUID(),
        serialNumber: String,
        asset: AssetKey,
        licenceKind: LicenceAssignmentKind,
        kind: Kind,
        assignmentID: AssignmentID,
        createdAt: Date,
        clientUserID: ClientUserID? = nil
    ) {
        self.id = id
        self.serialNumber = serialNumber
        self.clientUserID = clientUserID
        self.asset = asset
        self.licenceKind = licenceKind
        self.kind = kind
        self.assignmentID = assignmentID
        self.createdAt = createdAt
    }

    /// A change for a licence: a device licence names the device, a user licence the user (and a `User` declaration).
    public init(for licence: Assignment, kind: Kind, createdAt: Date) {
        switch licence.assignee {
        case .device(let serial):
            self.init(
                serialNumber: serial.value,
                asset: licence.asset,
                licenceKind: .device,
                kind: kind,
                assignmentID: licence.id,
                createdAt: createdAt
            )
        case .user(let user):
            self.init(
                serialNumber: "",
                asset: licence.asset,
                licenceKind: .user,
                kind: kind,
                assignmentID: licence.id,
                createdAt: createdAt,
                clientUserID: user
            )
        }
    }

    /// Who the change is for: the device, or the user of a user licence.
    public var enrollee: String { clientUserID.map { "user \($0.value)" } ?? serialNumber }
}

/// Where a declaration-set change stands. Stored by raw value; a stored value this build does not know is an error.
public enum DeclarationSetChangeState: String, Hashable, Sendable, CaseIterable, Codable {
    /// Waiting to be carried out at the DDM server.
    case queued
    /// The DDM server holds the change.
    case done
    /// Given up (see its last error).
    case failed
}

/// A stored change with its progress.
public struct DeclarationSetChangeRecord: Hashable, Sendable {
    public let change: DeclarationSetChange
    public let state: DeclarationSetChangeState
    public let attempts: Int
    public let lastError: String?
    public let updatedAt: Date?
    /// What the device last reported about the app (joins only): its `app.managed.list` state and reasons.
    public let deviceState: String?
    public let deviceReasons: [StatusReason]
    public let reportedAt: Date?
    /// The licence's install in the command path's words: `verified` once the device reports the app `managed`,
    /// `error` while it reports a failure, `failed` once healing gave up; nil while nothing is known.
    public var installState: DeviceCommandState?
    /// How often vpp healed this join after `Error.LicenseNotFound`, the step the healing is at, and why it
    /// stopped or what Apple said.
    public var healAttempts = 0
    public var healStep: HealStep?
    public var healError: String?

    public init(
        change: DeclarationSetChange,
        state: DeclarationSetChangeState,
        attempts: Int = 0,
        lastError: String? = nil,
        updatedAt: Date? = nil,
        deviceState: String? = nil,
        deviceReasons: [StatusReason] = [],
        reportedAt: Date? = nil
    ) {
        self.change = change
        self.state = state
        self.attempts = attempts
        self.lastError = lastError
        self.updatedAt = updatedAt
        self.deviceState = deviceState
        self.deviceReasons = deviceReasons
        self.reportedAt = reportedAt
    }
}

/// Which DDM server a tenant's declarations go to.
public enum DeclarationPublisherKind: String, Hashable, Sendable, CaseIterable, Codable {
    /// None: set changes stay queued (visible) until one is chosen.
    case off
    /// KMFDDM, or NanoHUB's embedded KMFDDM.
    case kmfddm
    /// Any other DDM server, as signed Standard Webhooks events (`declaration.published`,
    /// `declaration_set.joined`, `declaration_set.left`); the stored key is the `whsec_` signing secret.
    case webhook
    /// Any other DDM server that polls: changes stay queued until it reports them through the pull API.
    case pull
}

/// The tenant's DDM server, its API key sealed.
public struct DeclarationPublisherSettings: Hashable, Sendable {
    public var kind: DeclarationPublisherKind
    public var url: String?
    public var apiKey: SealedSecret?

    public init(kind: DeclarationPublisherKind = .off, url: String? = nil, apiKey: SealedSecret? = nil) {
        self.kind = kind
        self.url = url
        self.apiKey = apiKey
    }
}

/// The tenant's declarative delivery: its default and the declaration-set outbox, inside its unit of work (see
/// ``TenantTransaction``).
public protocol DeclarationRecords: Sendable {
    /// The tenant's default delivery (``AppDelivery/commands`` until set).
    func appDelivery() async throws -> AppDelivery
    func setAppDelivery(_ delivery: AppDelivery, now: Date) async throws
    /// The tenant's DDM server (``DeclarationPublisherKind/off`` until set).
    func declarationPublisher() async throws -> DeclarationPublisherSettings
    func saveDeclarationPublisher(_ settings: DeclarationPublisherSettings, now: Date) async throws
    /// Queues changes; one of each kind per licence, whoever queues it and however often.
    func enqueueDeclarationSetChanges(_ changes: [DeclarationSetChange]) async throws
    /// Which of these licences had their enrollment join a declaration set (so they leave it, rather than
    /// getting a RemoveApplication, when revoked).
    func joinedLicences(_ ids: [AssignmentID]) async throws -> Set<AssignmentID>
    /// Takes up to `limit` queued changes that are due and not held by another server, for `lease` seconds,
    /// oldest first (a licence's join before its leave).
    func claimDueDeclarationSetChanges(
        owner: String,
        now: Date,
        lease: TimeInterval,
        limit: Int
    ) async throws -> [DeclarationSetChangeRecord]
    /// Records one result for the changes `ids` (a batch's common outcome: one statement, not one per change), for
    /// those `owner` still holds; returns how many it recorded. `nextAttemptAt` is when a change left `queued` is
    /// tried again.
    @discardableResult
    func finishDeclarationSetChanges(
        _ ids: [UUID],
        owner: String,
        state: DeclarationSetChangeState,
        nextAttemptAt: Date?,
        lastError: String?,
        at: Date
    ) async throws -> Int
    /// Records what a device reported about an app on the device's latest join for it.
    /// - Returns: whether a join was found.
    @discardableResult
    func recordDeviceStatus(
        serial: String,
        asset: AssetKey,
        state: String?,
        reasons: [StatusReason],
        at: Date
    ) async throws -> Bool
    /// One device's changes (or, without a serial, the tenant's first `limit`), oldest first.
    func declarationSetChanges(serial: String?, limit: Int) async throws -> [DeclarationSetChangeRecord]
    /// The queued changes after `after` (creation time, then id), oldest first: the pull API's page.
    func queuedDeclarationSetChanges(
        after: DeviceCommandCursor?,
        limit: Int
    ) async throws
        -> [DeclarationSetChangeRecord]
    /// Records what a pulling DDM server did with a queued change (`done` or `failed`), only while it is queued.
    /// - Returns: the change as it is now, or nil when there is no such change.
    func completeDeclarationSetChange(
        _ id: UUID,
        state: DeclarationSetChangeState,
        lastError: String?,
        at: Date
    )
        async throws -> DeclarationSetChangeRecord?
}

/// Where the healing of one join after `Error.LicenseNotFound` stands. Stored by raw value.
public enum HealStep: String, Hashable, Sendable, CaseIterable, Codable {
    /// A server holds the heal and is asking Apple whether the licence exists.
    case asking
    /// Apple has no licence: the ledger asks Apple again (a durable intent); re-published once Apple confirms.
    case reassociating
    /// Waiting for the delivery job to publish the declaration with a new ServerToken.
    case republishing
    /// The declaration went out again: the device's next report tells.
    case republished
    /// Gave up after the allowed attempts (the install shows `failed`).
    case failed
}

/// The answer to claiming a heal of a device's join (see
/// ``DeclarationStatusRecords/claimHeal(serial:asset:maxAttempts:now:lease:reason:)``).
public enum HealClaim: Hashable, Sendable {
    /// This server heals; `attempt` counts from 1.
    case claimed(DeclarationSetChangeRecord, attempt: Int)
    /// Another server (or an earlier copy of the report) is healing, or the re-publish is not out yet.
    case busy
    /// The attempts are used up: the install was marked failed now (once).
    case exhausted(DeclarationSetChangeRecord)
    /// No join for the device and app (or already given up).
    case none
}

/// The device's declarative status acted on, inside the tenant's unit of work: install states, healing and
/// re-publication (see ``TenantTransaction``).
// No `: Sendable` here: TenantTransaction is Sendable, and a Sendable refinement makes the SQL extensions fail.
public protocol DeclarationStatusRecords {
    /// Sets the install state of the device's latest join for the app (what a report means for the licence).
    func setDeclarationInstallState(serial: String, asset: AssetKey, _ state: DeviceCommandState?) async throws
    /// Claims the healing of the device's latest join for the app with one conditional update: at most
    /// `maxAttempts` per join, never while another heal of it is under way (its lease runs until `now + lease`) or
    /// before the last re-publish has reached the DDM server. When the attempts are used up, marks the install
    /// failed once and answers ``HealClaim/exhausted(_:)``.
    func claimHeal(
        serial: String,
        asset: AssetKey,
        maxAttempts: Int,
        now: Date,
        lease: TimeInterval,
        reason: String
    ) async throws -> HealClaim
    /// Queues the association of an active licence again (Apple lost it: a device reported Error.LicenseNotFound and
    /// Apple's list agrees): the row goes back to `reserved`, the durable intent to associate, only if it is still
    /// `active` (counts do not move: it held a licence before and after). Kept apart from the state machine's moves,
    /// which never take a confirmed licence back to `reserved` on their own.
    /// - Returns: whether the licence was re-queued.
    func requeueAssociation(_ id: AssignmentID, now: Date) async throws -> Bool
    /// Moves a claimed heal on (`until`: the step's lease, nil for none), recording what Apple said.
    func updateHeal(_ changeID: UUID, step: HealStep, error: String?, until: Date?) async throws
    /// Of these licences, the joins waiting for Apple's re-association: they move to ``HealStep/republishing``
    /// and their declarations' publication numbers go up (one re-publish per declaration per call).
    func healsReassociated(_ ids: [AssignmentID], now: Date) async throws
    /// Asks for the declaration of `asset` and `kind` to be published again with a new ServerToken: bumps its
    /// publication number and moves these joins to ``HealStep/republishing``.
    func requestRepublish(asset: AssetKey, kind: LicenceAssignmentKind, joins: [UUID], now: Date) async throws
    /// Asks for the app's published declarations (each licence kind a device joined) to go out again with a new
    /// ServerToken, because their content changed (a scope's terms): bumps their publication numbers. A
    /// declaration never published is left alone: its first publication carries the new content anyway.
    func requestTermsRepublish(asset: AssetKey, now: Date) async throws
    /// Each declaration's current publication number (0 until one was bumped).
    func declarationPublications() async throws -> [String: Int]
    /// Declarations whose publication number is ahead of what the DDM server holds.
    func dueRepublications() async throws -> [(asset: AssetKey, kind: LicenceAssignmentKind, publication: Int)]
    /// Records that the DDM server holds `publication`; its joins waiting for it become ``HealStep/republished``.
    func markRepublished(asset: AssetKey, kind: LicenceAssignmentKind, publication: Int, now: Date) async throws
}
