import Foundation
import Logging
import VPPDomain

/// Carries out the ledger's queued Apple writes: reserved licences to associate, queued revokes to
/// disassociate.
///
/// Intents are rows of the ledger, written in the same transaction as the reservation, so none is lost
/// when a server dies. A worker claims a batch under a lease (one worker per token, asset and direction at a
/// time, through a named lease), so requests arriving together go to Apple together: one holder check and
/// one request per up to 1,000 serial numbers, across servers. A claim whose worker died expires and any
/// server resumes it; since that worker may have reached Apple first, Apple is asked what it already holds
/// before anything is sent again, so nothing is associated twice and nothing stays reserved.
public struct CarryOutAppleIntents: Sendable {
    let store: any Store
    let clock: any Clock
    let apple: any AppleAppsAndBooks
    let logger: Logger
    let tokenCredentials: TokenCredentials
    let health: TokenHealth
    /// How long a claim (and the group's lease) lasts; a dead worker's intents resume after at most this long,
    /// plus the background workers' tick. Default 60 s, `VPP_INTENT_LEASE_SECONDS` in vppd.
    public internal(set) var leaseSeconds: TimeInterval
    /// Apple's `maxSerialNumbers`.
    public let batchLimit = 1000
    /// First `status` poll after this long without a notification (Apple: 5 minutes).
    public internal(set) var firstPollDelay: TimeInterval = 300
    /// How long to wait before trying a transient failure again (at most one lease, so the recovery bound holds).
    public var retryDelay: TimeInterval { min(15, leaseSeconds) }

    /// Takes only what this use case touches.
    public init(
        store: any Store,
        clock: any Clock,
        apple: any AppleAppsAndBooks,
        logger: Logger,
        tokenCredentials: TokenCredentials,
        health: TokenHealth,
        leaseSeconds: TimeInterval = 60
    ) {
        self.store = store
        self.clock = clock
        self.apple = apple
        self.logger = logger
        self.tokenCredentials = tokenCredentials
        self.health = health
        self.leaseSeconds = leaseSeconds
    }

    /// Carries out the intents of `group` until none of `ids` is queued any more or `timeout` passes; whoever
    /// holds the group's lease sends for everyone, the others wait for the outcome.
    /// - Returns: the licences `ids` in their state at the end.
    public func carryOut(
        _ group: IntentGroup,
        waitingFor ids: Set<AssignmentID>,
        timeout: Duration = .seconds(20)
    )
        async throws -> [Assignment]
    {
        let timer = ContinuousClock()
        let deadline = timer.now.advanced(by: timeout)
        var firstError: (any Error)?
        while true {
            do {
                _ = try await drain(group)
            } catch {
                firstError = firstError ?? error
            }
            let rows = try await store.inTenant(group.tenantID) { tx in
                try await tx.assignments(AssignmentQuery(ids: ids))
            }
            let queued = rows.filter { $0.state.stateCode == group.state }
            if queued.isEmpty || timer.now >= deadline {
                if let firstError, rows.allSatisfy({ $0.state.stateCode == .failed }) { throw firstError }
                return rows
            }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    /// Carries out every queued intent that is due, across tenants (the background workers' pass).
    /// - Returns: how many groups it worked on.
    @discardableResult
    public func runDue(limit: Int = 50) async -> Int {
        let groups: [IntentGroup]
        do {
            groups = try await store.dueIntents(now: clock.now(), limit: limit)
        } catch {
            logger.warning("reading queued Apple intents failed", metadata: ["error": "\(error)"])
            return 0
        }
        for group in groups {
            do {
                _ = try await drain(group)
            } catch {
                logger.warning(
                    "carrying out Apple intents failed",
                    metadata: [
                        "token": "\(group.tokenID)", "asset": "\(group.asset)", "error": "\(error)",
                    ]
                )
            }
        }
        return groups.count
    }

    /// Takes the group's lease and sends batches until nothing is left to claim.
    /// - Returns: false when another worker holds the group (it sends for us).
    public func drain(_ group: IntentGroup) async throws -> Bool {
        let owner = "intents-\(UUID().uuidString)"
        let lease = "intents:\(group.tokenID):\(group.asset):\(group.state.rawValue)"
        let now = clock.now()
        guard
            try await store.acquireLease(
                tenant: group.tenantID,
                name: lease,
                owner: owner,
                now: now,
                ttl: leaseSeconds
            )
        else { return false }
        do {
            while true {
                let start = clock.now()
                let claimed = try await store.inTenant(group.tenantID) { tx in
                    try await tx.claimIntents(
                        tokenID: group.tokenID,
                        asset: group.asset,
                        state: group.state,
                        owner: owner,
                        now: start,
                        until: start.addingTimeInterval(leaseSeconds),
                        limit: batchLimit
                    )
                }
                if claimed.isEmpty { break }
                try await send(group, claimed)
            }
            try await store.releaseLease(tenant: group.tenantID, name: lease, owner: owner)
            return true
        } catch {
            try? await store.releaseLease(tenant: group.tenantID, name: lease, owner: owner)
            throw error
        }
    }

    private func send(_ group: IntentGroup, _ claimed: [ClaimedIntent]) async throws {
        let associating = group.state == .reserved
        let caller = Caller.system(group.tenantID)
        var rows = claimed.map(\.assignment)
        do {
            let credentials = try await tokenCredentials.open(group.tenantID, group.tokenID)
            // A worker before us may have reached Apple before it died: ask Apple what it holds first.
            let unsure = claimed.filter { $0.attempts > 1 }.map(\.assignment)
            if !unsure.isEmpty {
                let held = try await appleHolds(credentials, group.asset, unsure.map(\.assignee))
                let settled = unsure.filter { held.contains($0.assignee) == associating }
                try await settle(group, settled, associating: associating)
                let done = Set(settled.map(\.id))
                rows.removeAll { done.contains($0.id) }
            }
            guard !rows.isEmpty else { return }
            let sending = rows
            // Check the holder before writing: Apple answers a write even when another MDM has taken the token.
            _ = try await apple.clientConfig(credentials)
            let serials = rows.map(\.assignee).serialNumberTexts
            let users = rows.map(\.assignee).clientUserIDTexts
            let tickets =
                associating
                ? try await apple.associate(
                    credentials,
                    assets: [group.asset],
                    serialNumbers: serials,
                    clientUserIDs: users
                )
                : try await apple.disassociate(
                    credentials,
                    assets: [group.asset],
                    serialNumbers: serials,
                    clientUserIDs: users
                )
            let now = clock.now()
            try await store.inTenant(group.tenantID) { tx in
                for ticket in tickets {
                    let covered = Set(ticket.serialNumbers + ticket.clientUserIDs)
                    let ids = sending.filter { covered.contains($0.assignee.text) }.map(\.id)
                    try await tx.move(
                        ids,
                        to: associating ? .pending(eventID: ticket.eventID) : .revoking(eventID: ticket.eventID)
                    )
                }
                try await tx.insertPendingEvents(
                    tickets.map {
                        PendingAppleEvent(
                            eventID: $0.eventID,
                            tokenID: group.tokenID,
                            kind: associating ? "associate" : "disassociate",
                            createdAt: now,
                            nextPollAt: now.addingTimeInterval(firstPollDelay)
                        )
                    }
                )
                try await tx.appendAudit(
                    AuditRecord(
                        at: now,
                        actor: caller.admin.name,
                        entry: AuditEntry(
                            associating ? .licenceAssociate : .licenceDisassociate,
                            .app(group.asset),
                            .sent,
                            "\(sending.count) assignee(s) in \(tickets.count) request(s)"
                        )
                    )
                )
            }
            try await store.jobs.enqueue(
                JobRequest(
                    tenantID: group.tenantID,
                    kind: .pollEvents,
                    key: .tenant,
                    runAt: now.addingTimeInterval(firstPollDelay)
                )
            )
        } catch let error as AppleAPIError where error.isTransient {
            // Apple is busy or unreachable: the intents stay queued and are tried again after a pause.
            let ids = rows.map(\.id)
            let retryAt = clock.now().addingTimeInterval(retryDelay)
            try await store.inTenant(group.tenantID) { tx in try await tx.retryIntents(ids, at: retryAt) }
            throw error
        } catch StoreError.unavailable(let detail) {
            // The database failed, perhaps after Apple accepted the write and before its answer was recorded:
            // nothing here says Apple refused, so nothing is marked failed. The rows stay claimed; when the claim
            // expires another pass asks Apple what it holds before sending anything (a claim seen twice).
            throw StoreError.unavailable(detail)
        } catch is CancellationError {
            // Stopped mid-send (shutdown): the same, the claim's expiry hands the rows to another worker.
            throw CancellationError()
        } catch {
            // A refusal: a reservation is released and says why; a revoke goes back to active (still held).
            if let appleError = error as? AppleAPIError {
                try await health.record(appleError, tokenID: group.tokenID, caller: caller)
            }
            let ids = rows.map(\.id)
            try await store.inTenant(group.tenantID) { tx in
                try await tx.move(ids, to: associating ? .failed(reason: "\(error)") : .active)
                try await tx.appendAudit(
                    AuditRecord(
                        at: clock.now(),
                        actor: caller.admin.name,
                        entry: AuditEntry(
                            associating ? .licenceAssociate : .licenceDisassociate,
                            .app(group.asset),
                            .failed,
                            "\(error)"
                        )
                    )
                )
            }
            throw error
        }
    }

    /// Records what Apple was found to hold (or no longer hold) for intents whose fate was unknown.
    private func settle(_ group: IntentGroup, _ rows: [Assignment], associating: Bool) async throws {
        guard !rows.isEmpty else { return }
        let now = clock.now()
        try await store.inTenant(group.tenantID) { tx in
            if associating {
                let moved = try await tx.move(rows.map(\.id), to: .active)
                try await LicenceLedger.confirmed(tx, moved, now: now)
            } else {
                let moved = try await tx.move(rows.map(\.id), to: .revoked)
                try await LicenceLedger.revoked(tx, moved, now: now)
            }
            try await tx.appendAudit(
                AuditRecord(
                    at: now,
                    actor: "system",
                    entry: AuditEntry(
                        .licenceRecovered,
                        .app(group.asset),
                        .settled,
                        "\(rows.count) intent(s) of a worker that stopped were already carried out at Apple"
                    )
                )
            )
        }
    }

    /// Which of `assignees` hold `asset` at Apple now: one filtered query each for a few, one walk of the
    /// asset's assignments for many.
    private func appleHolds(
        _ credentials: AppleCredentials,
        _ asset: AssetKey,
        _ assignees: [Assignee]
    ) async throws
        -> Set<Assignee>
    {
        var held = Set<Assignee>()
        if assignees.count <= 10 {
            for assignee in assignees {
                var filter = AppleAssignmentFilter(adamID: asset.adamID, pricingParam: asset.pricingParam)
                switch assignee {
                case .device(let serial): filter.serialNumber = serial.value
                case .user(let user): filter.clientUserID = user.value
                }
                // Only a record of this asset and this assignee says Apple holds it.
                if try await apple.assignments(credentials, filter: filter).items.contains(where: filter.matches) {
                    held.insert(assignee)
                }
            }
            return held
        }
        let walk = try await apple.assignments(
            credentials,
            filter: AppleAssignmentFilter(adamID: asset.adamID, pricingParam: asset.pricingParam)
        )
        let wanted = Dictionary(assignees.map { ($0.text, $0) }, uniquingKeysWith: { first, _ in first })
        for record in walk.items where record.asset == asset {
            let text: String
            switch record.assignee {
            case .serialNumber(let serial): text = serial
            case .clientUserID(let user): text = user
            }
            if let match = wanted[text] { held.insert(match) }
        }
        return held
    }
}

extension CarryOutAppleIntents {
    /// This use case with Apple's first `status` poll after `delay` (tests: at once).
    public func polling(firstAfter delay: TimeInterval) -> CarryOutAppleIntents {
        var copy = self
        copy.firstPollDelay = delay
        return copy
    }
}
