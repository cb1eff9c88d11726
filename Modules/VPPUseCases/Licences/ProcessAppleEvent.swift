import Foundation
import VPPDomain

/// Applies the end of an Apple event to the ledger: confirmed assignments become active and their devices
/// get InstallApplication; failed ones release exactly their reservations and say why; confirmed
/// revocations return licences to the pool and queue RemoveApplication where the app is installed. An
/// event Apple keeps PENDING for more than ten minutes is retried with the original request (Apple's rule).
public struct ProcessAppleEvent: Sendable {
    let store: any Store
    let clock: any Clock
    let apple: any AppleAppsAndBooks
    let tokenCredentials: TokenCredentials
    /// Apple: while PENDING, wait at least 30 s between polls.
    public let pollInterval: TimeInterval = 30
    /// Apple: an event still PENDING after this long is re-sent.
    public let resendAfter: TimeInterval = 600

    /// Takes only what this use case touches.
    public init(store: any Store, clock: any Clock, apple: any AppleAppsAndBooks, tokenCredentials: TokenCredentials) {
        self.store = store
        self.clock = clock
        self.apple = apple
        self.tokenCredentials = tokenCredentials
    }

    /// Asks Apple for the event's status and applies it. Returns the state Apple reported.
    @discardableResult
    public func poll(_ tenantID: TenantID, event: PendingAppleEvent) async throws -> AppleEventStatus.State {
        let credentials = try await tokenCredentials.open(tenantID, event.tokenID)
        let status = try await apple.eventStatus(credentials, eventID: event.eventID)
        try await apply(tenantID, event: event, status: status)
        return status.state
    }

    /// How many due events one read takes (an index range; the next read continues after them).
    public private(set) var dueBatchSize = 100

    /// Polls every pending event that is due, a bounded batch at a time.
    public func pollDue(_ tenantID: TenantID) async throws -> Int {
        let now = clock.now()
        var polled: Set<String> = []
        while true {
            let due = try await store.inTenant(tenantID) { tx in
                try await tx.dueEvents(now: now, limit: dueBatchSize)
            }
            // An event polled in this pass is not polled again in it, even if it is still due (it will be next pass).
            let fresh = due.filter { !polled.contains($0.eventID) }
            for event in fresh {
                try await poll(tenantID, event: event)
                polled.insert(event.eventID)
            }
            if due.count < dueBatchSize || fresh.isEmpty { return polled.count }
        }
    }

    public func apply(_ tenantID: TenantID, event: PendingAppleEvent, status: AppleEventStatus) async throws {
        let now = clock.now()
        guard status.state != .pending else {
            try await store.inTenant(tenantID) { tx in
                guard now.timeIntervalSince(event.createdAt) >= resendAfter else {
                    var next = event
                    next.nextPollAt = now.addingTimeInterval(pollInterval)
                    try await tx.insertPendingEvents([next])
                    return
                }
                // Back to the queue: the intent worker asks Apple what it holds, then re-sends the rest.
                let rows = try await tx.assignments(AssignmentQuery(eventID: event.eventID))
                try await tx.move(rows.filter { $0.state.stateCode == .pending }.map(\.id), to: .reserved)
                try await tx.move(rows.filter { $0.state.stateCode == .revoking }.map(\.id), to: .revocationQueued)
                try await tx.deletePendingEvent(event.eventID)
                try await tx.appendAudit(
                    AuditRecord(
                        at: now,
                        actor: "apple",
                        entry: AuditEntry(
                            .appleEvent(kind: event.kind),
                            .appleEvent(id: event.eventID),
                            .resent,
                            "still PENDING after \(Int(resendAfter)) s"
                        )
                    )
                )
            }
            return
        }
        let failedReasons = Dictionary(
            status.failures.flatMap { failure in
                (failure.serialNumbers + failure.clientUserIDs).map { ($0, failure.error.description) }
            },
            uniquingKeysWith: { first, _ in first }
        )
        let freed = try await store.inTenant(tenantID) { tx in
            let rows = try await tx.assignments(AssignmentQuery(eventID: event.eventID))
            let pending = rows.filter { $0.state.stateCode == .pending }
            let revoking = rows.filter { $0.state.stateCode == .revoking }
            // Failures, grouped by reason so each row keeps Apple's words.
            for (reason, group) in Dictionary(
                grouping: pending.filter { failedReasons[$0.assignee.text] != nil },
                by: { failedReasons[$0.assignee.text] ?? "" }
            ) {
                try await tx.move(group.map(\.id), to: .failed(reason: reason))
            }
            let confirmed = try await tx.move(
                pending.filter { failedReasons[$0.assignee.text] == nil }.map(\.id),
                to: .active
            )
            try await LicenceLedger.confirmed(tx, confirmed, now: now)
            // A revoke Apple refused leaves the licence where it was.
            try await tx.move(revoking.filter { failedReasons[$0.assignee.text] != nil }.map(\.id), to: .active)
            let revoked = try await tx.move(
                revoking.filter { failedReasons[$0.assignee.text] == nil }.map(\.id),
                to: .revoked
            )
            try await LicenceLedger.revoked(tx, revoked, now: now)
            try await tx.deletePendingEvent(event.eventID)
            try await tx.appendAudit(
                AuditRecord(
                    at: now,
                    actor: "apple",
                    entry: AuditEntry(
                        .appleEvent(kind: event.kind),
                        .appleEvent(id: event.eventID),
                        AuditEntry.Outcome(status.state),
                        "\(status.numCompleted)/\(status.numRequested) done; \(failedReasons.count) failed"
                    )
                )
            )
            return !revoked.isEmpty || !failedReasons.isEmpty
        }
        // Licences came back (a revoke done, an assignment refused): the next in a waitlist may have them.
        if freed { try await RequestReconcile(store: store, clock: clock).ifScoped(tenantID) }
    }
}

extension ProcessAppleEvent {
    /// This use case polling due events `size` at a time (tests: small batches).
    public func pollingDue(inBatchesOf size: Int) -> ProcessAppleEvent {
        var copy = self
        copy.dueBatchSize = size
        return copy
    }
}
