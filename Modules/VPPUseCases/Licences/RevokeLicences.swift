import Foundation
import VPPDomain

/// What a revoke request did to each licence.
public struct RevocationOutcome: Sendable, Hashable {
    /// Sent to Apple (or queued to be sent): the licence returns to the pool when Apple confirms.
    public var revoking: [Assignee]
    /// Not yet settled at Apple: revoked as soon as Apple confirms the assignment.
    public var afterAssignmentSettles: [Assignee]
    /// Reserved but never sent to Apple: cancelled at once, the licence is back in the pool.
    public var cancelled: [Assignee]
    /// Apple events to wait for.
    public var events: [AppleEventTicket]
}

/// Revoke licences of one app from devices or users, through the ledger: an active licence gets a queued
/// revoke (a durable intent carried out at once, batched, resumed by any server if this one dies); a licence
/// Apple has not settled yet is revoked once it does; a reservation never sent is cancelled. When Apple
/// confirms, licences return to their token's pool and devices that have the app get RemoveApplication.
public struct RevokeLicences: Sendable {
    let store: any Store
    let clock: any Clock
    let auditTrail: AuditTrail
    let intentWorker: CarryOutAppleIntents
    public private(set) var firstPollDelay: TimeInterval = 300
    public let waitForApple: Duration = .seconds(20)
    public let intentLeaseSeconds: TimeInterval

    /// Takes only what this use case touches; `intentWorker` sends the queued revokes.
    public init(store: any Store, clock: any Clock, auditTrail: AuditTrail, intentWorker: CarryOutAppleIntents) {
        self.store = store
        self.clock = clock
        self.auditTrail = auditTrail
        self.intentWorker = intentWorker
        intentLeaseSeconds = intentWorker.leaseSeconds
    }

    @discardableResult
    public func callAsFunction(
        _ caller: Caller,
        asset key: AssetKey,
        from assignees: [Assignee]
    ) async throws
        -> RevocationOutcome
    {
        try caller.require(.manageLicences)
        guard !assignees.isEmpty else { throw UseCaseError.noAssignees }
        try assignees.requireDistinct()
        let now = clock.now()
        typealias Queued = ([Assignment], [Assignee], [Assignee], Set<AssignmentID>)
        let (queued, cancelled, deferred, leaving): Queued = try await store.inTenant(caller.tenantID) { tx in
            guard let app = try await tx.app(key) else { throw StoreError.unknownApp(key) }
            try app.asset.checkRevocable()
            var found: [Assignment] = []
            var missing: [String] = []
            for assignee in assignees {
                let held = try await tx.assignments(
                    AssignmentQuery(asset: key, assignee: assignee, states: AssignmentState.Code.holding)
                )
                if let row = held.first { found.append(row) } else { missing.append(assignee.text) }
            }
            guard missing.isEmpty else { throw UseCaseError.notLicensed(missing) }
            let active = found.filter { $0.state == .active }
            let unsettled = found.filter { if case .pending = $0.state { true } else { false } }
            let reserved = found.filter { $0.state == .reserved }
            try await tx.move(active.map(\.id), to: .revocationQueued)
            let leaving = try await LicenceLedger.revoking(tx, active, now: now)
            // A reservation is cancelled only if no worker holds it now (its claim may be on the wire to Apple);
            // otherwise it is revoked when its assignment settles, like a pending one.
            let unsent = try await tx.unsentIntents(reserved.map(\.id), now: now)
            let cancelled = try await tx.move(unsent, to: .failed(reason: "revoked before it was sent to Apple"))
            let cancelledIDs = Set(cancelled.map(\.id))
            let deferred = unsettled + reserved.filter { !cancelledIDs.contains($0.id) }
            try await tx.requestRevoke(deferred.map(\.id))
            try await auditTrail.record(
                tx,
                caller,
                AuditEntry(
                    .licenceRevoke,
                    .app(key),
                    .queued,
                    "\(active.count) to revoke, \(deferred.count) after assignment, \(cancelled.count) cancelled"
                )
            )
            return (active, cancelled.map(\.assignee), deferred.map(\.assignee), leaving)
        }
        var outcome = RevocationOutcome(
            revoking: queued.map(\.assignee),
            afterAssignmentSettles: deferred,
            cancelled: cancelled,
            events: []
        )
        for (tokenID, group) in Dictionary(grouping: queued, by: \.grantingToken) {
            let rows = try await intents.carryOut(
                IntentGroup(tenantID: caller.tenantID, tokenID: tokenID, asset: key, state: .revocationQueued),
                // Licences leaving a declaration set are revoked once the device left it (the background pump):
                // not waited for here.
                waitingFor: Set(group.map(\.id)).subtracting(leaving),
                timeout: waitForApple
            )
            var byEvent: [String: [Assignment]] = [:]
            for row in rows { if case .revoking(let event) = row.state { byEvent[event, default: []].append(row) } }
            outcome.events += byEvent.keys.sorted().map { event in
                let rows = byEvent[event] ?? []
                return AppleEventTicket(
                    eventID: event,
                    assets: [key],
                    serialNumbers: rows.map(\.assignee).serialNumberTexts,
                    clientUserIDs: rows.map(\.assignee).clientUserIDTexts
                )
            }
        }
        return outcome
    }

    private var intents: CarryOutAppleIntents {
        var intents = intentWorker
        intents.leaseSeconds = intentLeaseSeconds
        intents.firstPollDelay = firstPollDelay
        return intents
    }

    /// Reclaims, in bulk, every licence held by a retired device or user: they go back to their pools.
    /// - Returns: how many licences were queued for revocation.
    public func reclaimRetired(_ caller: Caller) async throws -> Int {
        try caller.require(.manageLicences)
        // One query: the store filters by retired devices and users and revocable apps, so neither the
        // inventory, the catalogue nor the ledger is read here.
        let reclaimable = try await store.inTenant(caller.tenantID) { tx in try await tx.activeLicencesOfRetired() }
        for (asset, group) in Dictionary(grouping: reclaimable, by: \.asset) {
            _ = try await self(caller, asset: asset, from: group.map(\.assignee))
        }
        return reclaimable.count
    }
}

extension RevokeLicences {
    /// This use case with Apple's first `status` poll after `delay` (tests: at once).
    public func polling(firstAfter delay: TimeInterval) -> RevokeLicences {
        var copy = self
        copy.firstPollDelay = delay
        return copy
    }
}
