import Foundation

/// One device or user some scope of an app wants licensed, with the terms of its strongest scope.
public struct DesiredMember: Hashable, Sendable {
    public let assignee: Assignee
    public let scope: ScopeName
    public let priority: Int
    public let removalGraceSeconds: Int
    public let uninstallOnRemoval: Bool
    public let mode: ScopeDeliveryMode

    public init(assignee: Assignee, scope: AppScope) {
        self.assignee = assignee
        self.scope = scope.name
        self.priority = scope.priority
        self.removalGraceSeconds = scope.removalGraceSeconds
        self.uninstallOnRemoval = scope.uninstallOnRemoval
        self.mode = scope.mode
    }

    /// Whether this member's terms win over `other`'s (higher priority, then the first scope by name).
    func outranks(_ other: DesiredMember) -> Bool {
        (priority, other.scope.value) > (other.priority, scope.value)
    }

    /// The union of several scopes' members: one entry per assignee, on the terms of its strongest scope.
    public static func union(_ scopes: [(AppScope, [Assignee])]) -> [Assignee: DesiredMember] {
        var result: [Assignee: DesiredMember] = [:]
        for (scope, members) in scopes {
            for assignee in members {
                let candidate = DesiredMember(assignee: assignee, scope: scope)
                if let current = result[assignee], !candidate.outranks(current) { continue }
                result[assignee] = candidate
            }
        }
        return result
    }
}

/// What vpp remembers of a device or user a scope brought in: when it entered (its place in the waitlist),
/// when it left (the grace period), and whether the scope granted its licence (only those are revoked).
public struct TrackedMember: Hashable, Sendable {
    public let assignee: Assignee
    public var scope: ScopeName
    public var priority: Int
    public var enteredAt: Date
    public var leftAt: Date?
    public var grantedByScope: Bool
    public var removalGraceSeconds: Int
    public var uninstallOnRemoval: Bool
    public var mode: ScopeDeliveryMode

    public init(
        assignee: Assignee,
        scope: ScopeName,
        priority: Int,
        enteredAt: Date,
        leftAt: Date? = nil,
        grantedByScope: Bool,
        removalGraceSeconds: Int,
        uninstallOnRemoval: Bool,
        mode: ScopeDeliveryMode
    ) {
        self.assignee = assignee
        self.scope = scope
        self.priority = priority
        self.enteredAt = enteredAt
        self.leftAt = leftAt
        self.grantedByScope = grantedByScope
        self.removalGraceSeconds = removalGraceSeconds
        self.uninstallOnRemoval = uninstallOnRemoval
        self.mode = mode
    }

    /// When its licence may be revoked, once it left.
    public var removalDueAt: Date? { leftAt?.addingTimeInterval(TimeInterval(removalGraceSeconds)) }
}

/// How a device or user holds the app in the ledger now.
public enum Holding: Hashable, Sendable {
    /// Reserved, pending or active: it has (or is getting) the licence.
    case licensed
    /// A revoke is queued or on its way to Apple.
    case leaving
}

/// What reconciling one app does: the desired set against the ledger and the pool. Pure: the same input
/// always gives the same plan, so a dry run answers exactly what applying would do.
public struct ReconcilePlan: Hashable, Sendable {
    /// To license now, in waitlist order (priority, then when they entered).
    public var add: [Assignee] = []
    /// Wanted but beyond what the pool can grant, in order: position 1 is served first.
    public var waiting: [Assignee] = []
    /// Left every scope, grace over, licensed by a scope: to revoke now.
    public var remove: [Assignee] = []
    /// Left every scope, still within the grace period (or their revoke is on its way).
    public var pendingRemoval: [Assignee] = []
    /// Wanted and licensed already.
    public var keep: [Assignee] = []
    /// Licensed outside any scope (the imperative API): left alone.
    public var unmanaged = 0
    /// Tracking rows to write (new members, members that left or came back, changed terms).
    public var track: [TrackedMember] = []
    /// Tracking rows to forget (gone from every scope and no longer licensed, or licensed outside scopes).
    public var forget: [Assignee] = []

    public init() {}

    /// Plans one app.
    /// - Parameters:
    ///   - desired: every device and user some scope of the app wants (see ``DesiredMember/union(_:)``).
    ///   - tracked: what vpp remembers of the app's scope members.
    ///   - holdings: the ledger's holders of the app.
    ///   - available: licences the pool can grant now.
    public static func make(
        desired: [Assignee: DesiredMember],
        tracked: [Assignee: TrackedMember],
        holdings: [Assignee: Holding],
        available: Int,
        now: Date
    ) -> ReconcilePlan {
        var plan = ReconcilePlan()
        var candidates: [TrackedMember] = []
        for (assignee, wanted) in desired {
            let holding = holdings[assignee]
            var row =
                tracked[assignee]
                ?? TrackedMember(
                    assignee: assignee,
                    scope: wanted.scope,
                    priority: wanted.priority,
                    enteredAt: now,
                    grantedByScope: holding == nil,
                    removalGraceSeconds: wanted.removalGraceSeconds,
                    uninstallOnRemoval: wanted.uninstallOnRemoval,
                    mode: wanted.mode
                )
            let before = tracked[assignee]
            if row.leftAt != nil {
                // Came back: a new place at the end of the waitlist; still the scope's licence if it is held.
                row.leftAt = nil
                if holding == nil { row.enteredAt = now }
            }
            if holding == nil { row.grantedByScope = true }
            row.scope = wanted.scope
            row.priority = wanted.priority
            row.removalGraceSeconds = wanted.removalGraceSeconds
            row.uninstallOnRemoval = wanted.uninstallOnRemoval
            row.mode = wanted.mode
            if row != before { plan.track.append(row) }
            switch holding {
            case .licensed?: plan.keep.append(assignee)
            case .leaving?: plan.pendingRemoval.append(assignee)  // licensed again once its revoke settles
            case nil: candidates.append(row)
            }
        }
        for (assignee, row) in tracked where desired[assignee] == nil {
            var left = row
            if left.leftAt == nil {
                left.leftAt = now
                plan.track.append(left)
            }
            let holding = holdings[assignee]
            guard holding != nil else {
                plan.forget.append(assignee)
                continue
            }
            if holding == .leaving {
                plan.pendingRemoval.append(assignee)
            } else if let due = left.removalDueAt, due > now {
                plan.pendingRemoval.append(assignee)
            } else if left.grantedByScope {
                plan.remove.append(assignee)
            } else {
                plan.forget.append(assignee)  // licensed before any scope wanted it: left alone
            }
        }
        plan.unmanaged = holdings.keys.filter { desired[$0] == nil && tracked[$0] == nil }.count
        candidates.sort { a, b in
            if a.priority != b.priority { return a.priority > b.priority }
            if a.enteredAt != b.enteredAt { return a.enteredAt < b.enteredAt }
            return a.assignee.sortKey < b.assignee.sortKey
        }
        let granted = min(max(0, available), candidates.count)
        plan.add = candidates.prefix(granted).map(\.assignee)
        plan.waiting = candidates.dropFirst(granted).map(\.assignee)
        plan.keep.sort { $0.sortKey < $1.sortKey }
        plan.remove.sort { $0.sortKey < $1.sortKey }
        plan.pendingRemoval.sort { $0.sortKey < $1.sortKey }
        plan.forget.sort { $0.sortKey < $1.sortKey }
        plan.track.sort { $0.assignee.sortKey < $1.assignee.sortKey }
        return plan
    }

    /// Whether applying would change nothing at Apple or in the ledger.
    public var isSettled: Bool { add.isEmpty && remove.isEmpty && track.isEmpty && forget.isEmpty }
}

extension Assignee {
    /// A stable text key: `serial:…` or `user:…` (orders and stores members of either kind together).
    public var sortKey: String {
        switch self {
        case .device(let serial): "serial:\(serial.value)"
        case .user(let user): "user:\(user.value)"
        }
    }

    /// Reads a ``sortKey``.
    public init?(sortKey: String) {
        if sortKey.hasPrefix("serial:"), let serial = try? SerialNumber(String(sortKey.dropFirst(7))) {
            self = .device(serial)
        } else if sortKey.hasPrefix("user:"), let user = try? ClientUserID(String(sortKey.dropFirst(5))) {
            self = .user(user)
        } else {
            return nil
        }
    }
}
