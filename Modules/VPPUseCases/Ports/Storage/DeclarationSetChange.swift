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
    public let serialNumber: String
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
        createdAt: Date
    ) {
        self.id = id
        self.serialNumber = serialNumber
        self.asset = asset
        self.licenceKind = licenceKind
        self.kind = kind
        self.assignmentID = assignmentID
        self.createdAt = createdAt
    }
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
    /// Records the result of carrying out a change, only while `owner` still holds the claim; returns whether it
    /// did. `nextAttemptAt` is when a change left `queued` is tried again.
    @discardableResult
    func finishDeclarationSetChange(
        _ id: UUID,
        owner: String,
        state: DeclarationSetChangeState,
        nextAttemptAt: Date?,
        lastError: String?,
        at: Date
    ) async throws -> Bool
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
}
