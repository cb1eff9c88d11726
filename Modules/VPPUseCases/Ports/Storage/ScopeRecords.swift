import Foundation
import VPPDomain

/// A group with how many members it has written (dynamic groups: 0; their members follow enrollments).
public struct GroupRecord: Hashable, Sendable {
    public let group: DeviceGroup
    public let memberCount: Int
    public let updatedAt: Date

    public init(group: DeviceGroup, memberCount: Int, updatedAt: Date) {
        self.group = group
        self.memberCount = memberCount
        self.updatedAt = updatedAt
    }
}

/// An app's alert level: notify when fewer than `below` licences, or `belowPercent` % of the total, are left.
public struct AppAlert: Hashable, Sendable {
    public let asset: AssetKey
    public var below: Int?
    public var belowPercent: Int?
    /// When the level was last crossed downwards (one notice per crossing); nil while above it.
    public var crossedAt: Date?

    public init(asset: AssetKey, below: Int? = nil, belowPercent: Int? = nil, crossedAt: Date? = nil) {
        self.asset = asset
        self.below = below
        self.belowPercent = belowPercent
        self.crossedAt = crossedAt
    }

    /// The number of licences left below which the alert fires, for a pool of `total`.
    public func threshold(total: Int) -> Int {
        max(below ?? 0, belowPercent.map { (total * $0 + 99) / 100 } ?? 0)
    }
}

/// Groups, scopes and the reconciler's memory of one tenant (see ``TenantTransaction``).
public protocol ScopeRecords: Sendable {
    /// Creates or redefines a group (its written members stay unless replaced).
    func upsertGroup(_ group: DeviceGroup) async throws
    func group(_ name: GroupName) async throws -> GroupRecord?
    /// Every group of the tenant (a handful to hundreds), by name.
    func groups() async throws -> [GroupRecord]
    /// - Returns: whether it existed.
    func deleteGroup(_ name: GroupName) async throws -> Bool
    /// Makes the written members exactly `members`, keeping when a remaining member was added.
    func replaceGroupMembers(_ name: GroupName, _ members: [Assignee], now: Date) async throws
    func addGroupMembers(_ name: GroupName, _ members: [Assignee], now: Date) async throws
    func removeGroupMembers(_ name: GroupName, _ members: [Assignee]) async throws
    /// One page of a group's written members ordered by ``Assignee/sortKey``, those after `after`.
    func groupMemberPage(_ name: GroupName, after: String?, limit: Int) async throws -> [Assignee]
    /// The written members of these groups.
    func groupMembers(_ names: [GroupName]) async throws -> [Assignee]

    func upsertScope(_ scope: AppScope, now: Date) async throws
    func scope(_ name: ScopeName) async throws -> AppScope?
    /// Every scope of the tenant (a handful to hundreds), by name.
    func scopes() async throws -> [AppScope]
    /// The scopes that name one app (an indexed read), by name.
    func scopes(of asset: AssetKey) async throws -> [AppScope]
    func deleteScope(_ name: ScopeName) async throws -> Bool
    /// Whether the tenant has any scope, or members still tracked after their scope went.
    func hasDesiredState() async throws -> Bool

    /// What the reconciler remembers of an app's scope members.
    func trackedMembers(_ asset: AssetKey) async throws -> [TrackedMember]
    /// Just these members' rows (the ledger asks how a licence was scoped: install or licence only).
    func trackedMembers(_ asset: AssetKey, _ assignees: [Assignee]) async throws -> [TrackedMember]
    /// Assets with tracking rows (a scope deleted: its members still follow the removal policy).
    func trackedAssets() async throws -> [AssetKey]
    func saveTracking(_ asset: AssetKey, upsert: [TrackedMember], forget: [Assignee]) async throws
    /// How many of the app's scope members waited after its last reconcile (nil: never reconciled).
    func waitingCount(_ asset: AssetKey) async throws -> Int?
    func setWaitingCount(_ asset: AssetKey, _ waiting: Int) async throws
    /// Which of `members` are written members of these groups (a membership change reads what it names).
    func groupMembers(_ names: [GroupName], among members: [Assignee]) async throws -> [(GroupName, Assignee)]

    func upsertAlert(_ alert: AppAlert) async throws
    func alert(_ asset: AssetKey) async throws -> AppAlert?
    /// Every alert level of the tenant.
    func alerts() async throws -> [AppAlert]
    /// Records that the app crossed its level at `at`, unless a crossing is recorded already.
    /// - Returns: whether this call recorded it (exactly one caller does, however many servers ask).
    func markAlertCrossed(_ asset: AssetKey, at: Date) async throws -> Bool
    /// Re-arms the alert once the app is back above its level.
    func clearAlertCrossed(_ asset: AssetKey) async throws
    /// Licences granted (+) less those given back (−) per UTC day since `since` (days since 1970 → net grants):
    /// the ledger's own history, for forecasts and alerts.
    func dailyNetGrants(_ asset: AssetKey, since: Date) async throws -> [Int: Int]
}

extension ScopeRecords {
    /// Net licences granted since `since`: the days of ``dailyNetGrants(_:since:)`` added up.
    public func netGrants(_ asset: AssetKey, since: Date) async throws -> Int {
        try await dailyNetGrants(asset, since: since).values.reduce(0, +)
    }
}
