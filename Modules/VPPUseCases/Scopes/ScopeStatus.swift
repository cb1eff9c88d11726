import Foundation
import VPPDomain

/// The plan's counts, as the API and the CLI show them.
public struct PlanSummary: Hashable, Sendable, Codable {
    public let add: Int
    public let remove: Int
    public let wait: Int
    public let keep: Int
    public let pendingRemoval: Int
    /// Licences granted outside any scope (the imperative API): left alone.
    public let unmanaged: Int
    /// Devices and users a scope names that cannot hold a licence (retired, or users not registered).
    public let excluded: Int

    public init(_ reconcile: AppReconcile) {
        add = reconcile.plan.add.count
        remove = reconcile.plan.remove.count
        wait = reconcile.plan.waiting.count
        keep = reconcile.plan.keep.count
        pendingRemoval = reconcile.plan.pendingRemoval.count
        unmanaged = reconcile.plan.unmanaged
        excluded = reconcile.excluded
    }
}

/// A scope and where its members stand.
public struct ScopeStatus: Sendable {
    public let scope: AppScope
    /// Devices and users the scope names that may hold a licence.
    public let desired: Int
    /// Of those, licensed (or on their way at Apple).
    public let licensed: Int
    /// Of those, waiting for a licence.
    public let waiting: Int
    /// Members that left and still hold their licence within the grace period (or whose revoke is on its way).
    public let pendingRemoval: Int
    /// The app's plan (every scope of the app together: a device in two scopes holds one licence).
    public let plan: PlanSummary
}

/// One waiting device or user, with its place in the app's queue (1 is served first).
public struct WaitlistEntry: Hashable, Sendable {
    public let position: Int
    public let assignee: Assignee
    public let scope: ScopeName
    public let priority: Int
    public let since: Date?
}

/// The answer to a scope change (or its dry run): the app's plan with the change in place.
public struct ScopeChange: Sendable {
    public let scope: AppScope
    public let plan: PlanSummary
    /// false: a dry run (nothing stored, nothing sent).
    public let stored: Bool
}
