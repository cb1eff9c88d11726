import Foundation
import VPPDomain

// The API's representations of desired state, shared by the REST API and the CLI's --json (one shape).

/// MemberView, as the API answers it.
public struct MemberView: Encodable, Sendable {
    public let serialNumber: String?
    public let clientUserId: String?

    public init(_ assignee: Assignee) {
        switch assignee {
        case .device(let serial): (serialNumber, clientUserId) = (serial.value, nil)
        case .user(let user): (serialNumber, clientUserId) = (nil, user.value)
        }
    }
}

/// GroupView, as the API answers it.
public struct GroupView: Encodable, Sendable {
    public let name: String
    public let dynamic: Bool
    public let platforms: [String]?
    public let modelPrefix: String?
    public let memberCount: Int
    public let updatedAt: String

    public init(_ record: GroupRecord) {
        name = record.group.name.value
        dynamic = record.group.dynamic != nil
        platforms = record.group.dynamic.map { $0.platforms.map(\.rawValue).sorted() }
        modelPrefix = record.group.dynamic?.modelPrefix
        memberCount = record.memberCount
        updatedAt = ISO8601Timestamp.format(record.updatedAt)
    }
}

/// GroupPage, as the API answers it.
public struct GroupPage: Encodable, Sendable {
    public let group: GroupView
    public let members: [MemberView]
    public let next: String?

    public init(group: GroupView, members: [MemberView], next: String?) {
        (self.group, self.members, self.next) = (group, members, next)
    }
}

/// PlanView, as the API answers it.
public struct PlanView: Encodable, Sendable {
    public let add, remove, wait, keep, pendingRemoval, unmanaged, excluded: Int

    public init(_ plan: PlanSummary) {
        (add, remove, wait, keep) = (plan.add, plan.remove, plan.wait, plan.keep)
        (pendingRemoval, unmanaged, excluded) = (plan.pendingRemoval, plan.unmanaged, plan.excluded)
    }
}

/// ScopeView, as the API answers it.
public struct ScopeView: Encodable, Sendable {
    public let name, adamId, pricingParam, mode: String
    public let groups, serialNumbers, clientUserIds: [String]
    public let priority, removalGraceSeconds: Int
    public let uninstallOnRemoval: Bool
    /// The app's declaration terms: `Install` (`Required` or `Optional`), a pinned version, automatic updates.
    public let install: String
    public let version: Int?
    public let automaticUpdates: String?
    public let desired, licensed, waiting, pendingRemoval: Int?
    public let plan: PlanView?

    public init(_ scope: AppScope, status: ScopeStatus? = nil, plan: PlanSummary? = nil) {
        name = scope.name.value
        adamId = scope.asset.adamID
        pricingParam = scope.asset.pricingParam.rawValue
        mode = scope.mode.rawValue
        groups = scope.groups.map(\.value)
        serialNumbers = scope.serialNumbers.map(\.value)
        clientUserIds = scope.clientUserIDs.map(\.value)
        priority = scope.priority
        removalGraceSeconds = scope.removalGraceSeconds
        uninstallOnRemoval = scope.uninstallOnRemoval
        install = scope.declaration.install.rawValue
        version = scope.declaration.version
        automaticUpdates = scope.declaration.automaticUpdates?.rawValue
        desired = status?.desired
        licensed = status?.licensed
        waiting = status?.waiting
        pendingRemoval = status?.pendingRemoval
        self.plan = (plan ?? status?.plan).map(PlanView.init)
    }
}

/// ScopeChangeView, as the API answers it.
public struct ScopeChangeView: Encodable, Sendable {
    public let scope: ScopeView
    public let plan: PlanView
    public let dryRun: Bool

    public init(_ change: ScopeChange) {
        scope = ScopeView(change.scope)
        plan = PlanView(change.plan)
        dryRun = !change.stored
    }
}

/// WaitlistEntryView, as the API answers it.
public struct WaitlistEntryView: Encodable, Sendable {
    public let position: Int
    public let serialNumber: String?
    public let clientUserId: String?
    public let scope: String
    public let priority: Int
    public let since: String?

    public init(_ entry: WaitlistEntry) {
        position = entry.position
        let member = MemberView(entry.assignee)
        (serialNumber, clientUserId) = (member.serialNumber, member.clientUserId)
        scope = entry.scope.value
        priority = entry.priority
        since = entry.since.map(ISO8601Timestamp.format)
    }
}

/// WaitlistPage, as the API answers it.
public struct WaitlistPage: Encodable, Sendable {
    public let entries: [WaitlistEntryView]
    public let next: String?

    public init(entries: [WaitlistEntryView], next: String?) {
        (self.entries, self.next) = (entries, next)
    }
}

/// AlertView, as the API answers it.
public struct AlertView: Encodable, Sendable {
    public let adamId: String
    public let below: Int?
    public let belowPercent: Int?

    public init(adamId: String, below: Int?, belowPercent: Int?) {
        (self.adamId, self.below, self.belowPercent) = (adamId, below, belowPercent)
    }
}

/// ForecastView, as the API answers it.
public struct ForecastView: Encodable, Sendable {
    public let adamId: String
    public let name: String?
    public let total, available, waiting: Int
    public let netPerDay: Double
    public let exhaustsOn: String?
    public let belowAlert: Bool
    public let summary: String

    public init(_ forecast: Forecast) {
        adamId = forecast.asset.adamID
        name = forecast.name
        total = forecast.total
        available = forecast.available
        waiting = forecast.waiting
        netPerDay = (forecast.netPerDay * 100).rounded() / 100
        exhaustsOn = forecast.exhaustsOn.map(ISO8601Timestamp.format)
        belowAlert = forecast.belowAlert
        summary = forecast.sentence
    }
}
