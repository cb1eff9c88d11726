import Foundation
import VPPDomain

/// The outcome of an assignment request.
public struct AssignmentOutcome: Sendable {
    /// Licences reserved, by granting token.
    public var sentByToken: [TokenID: Int]
    /// Apple events to wait for.
    public var events: [AppleEventTicket]
    /// Every licence of the request in its state when the answer was given: pending at Apple (or already
    /// active), failed with Apple's reason, or still reserved (queued: Apple was busy; it is sent later).
    public var licences: [Assignment]
}

/// Assign licences of one app to devices (serial numbers) or users: checks everything first, then reserves
/// in the ledger (never oversells, across servers) together with the durable intent to ask Apple; the intent
/// is carried out at once, batched with whatever else is queued for the same token and app. Devices get
/// InstallApplication only when Apple confirms (see ``ProcessAppleEvent`` and ``LicenceLedger``).
public struct AssignLicences: Sendable {
    let store: any Store
    let tokenCredentials: TokenCredentials
    let auditTrail: AuditTrail
    let poolReader: LicencePoolReader
    let intentScheduler: (any IntentScheduler)?
    let intentWorker: CarryOutAppleIntents
    /// First `status` poll after this long without a notification (Apple: 5 minutes).
    public private(set) var firstPollDelay: TimeInterval = 300
    /// How long a request waits for its intents to reach Apple before answering with them still queued.
    public private(set) var waitForApple: Duration = .seconds(20)
    /// With an ``IntentScheduler`` (a server), answer once the intents are durable instead of waiting for Apple.
    public private(set) var queueInBackground = true
    /// The intents' claim lease (see ``CarryOutAppleIntents/leaseSeconds``).
    public let intentLeaseSeconds: TimeInterval
    /// Where small requests for the same app share a transaction (a server's, shared by its requests); nil:
    /// every request reserves in its own.
    public let batches: ReservationBatches?

    /// Takes only what this use case touches; `intentWorker` carries intents out when there is no scheduler.
    public init(
        store: any Store,
        tokenCredentials: TokenCredentials,
        auditTrail: AuditTrail,
        poolReader: LicencePoolReader,
        intentScheduler: (any IntentScheduler)?,
        intentWorker: CarryOutAppleIntents,
        batches: ReservationBatches? = nil
    ) {
        self.store = store
        self.tokenCredentials = tokenCredentials
        self.auditTrail = auditTrail
        self.poolReader = poolReader
        self.intentScheduler = intentScheduler
        self.intentWorker = intentWorker
        intentLeaseSeconds = intentWorker.leaseSeconds
        self.batches = batches
    }

    public func callAsFunction(
        _ caller: Caller,
        asset key: AssetKey,
        to assignees: [Assignee]
    ) async throws -> AssignmentOutcome {
        try caller.require(.manageLicences)
        guard !assignees.isEmpty else { throw UseCaseError.noAssignees }
        try assignees.requireDistinct()
        let ours = try await tokenCredentials.holder(of: caller.tenantID)

        // 1. Check and reserve in one unit of work, all or nothing: the rows are the intents to call Apple.
        let reserved: [(TokenID, [Assignment])]
        do {
            reserved = try await reserve(caller, key, assignees, ours: ours)
        } catch StoreError.alreadyLicensed(let who) {
            throw UseCaseError.alreadyLicensed(who)
        }

        // 2a. A server with an intent pump answers now: the reservations are durable intents, sent within
        // moments in batches with everyone else's; their state shows in the licence list.
        if let scheduler = intentScheduler, queueInBackground {
            for (tokenID, _) in reserved {
                scheduler.intentsQueued(
                    IntentGroup(tenantID: caller.tenantID, tokenID: tokenID, asset: key, state: .reserved)
                )
            }
            return AssignmentOutcome(
                sentByToken: Dictionary(reserved.map { ($0.0, $0.1.count) }, uniquingKeysWith: +),
                events: [],
                licences: reserved.flatMap(\.1)
            )
        }
        // 2b. Otherwise carry the intents out now (batched with others queued for the same token and app).
        var intents = intentWorker
        intents.leaseSeconds = intentLeaseSeconds
        intents.firstPollDelay = firstPollDelay
        var outcome = AssignmentOutcome(sentByToken: [:], events: [], licences: [])
        for (tokenID, group) in reserved {
            let rows = try await intents.carryOut(
                IntentGroup(tenantID: caller.tenantID, tokenID: tokenID, asset: key, state: .reserved),
                waitingFor: Set(group.map(\.id)),
                timeout: waitForApple
            )
            outcome.sentByToken[tokenID] = group.count
            outcome.licences += rows
        }
        var byEvent: [String: [Assignment]] = [:]
        for row in outcome.licences {
            if case .pending(let event) = row.state { byEvent[event, default: []].append(row) }
        }
        outcome.events = byEvent.keys.sorted().map { event in
            let rows = byEvent[event] ?? []
            return AppleEventTicket(
                eventID: event,
                assets: [key],
                serialNumbers: rows.map(\.assignee).serialNumberTexts,
                clientUserIDs: rows.map(\.assignee).clientUserIDTexts
            )
        }
        return outcome
    }

    /// Checks and reserves one request's licences in its own unit of work, all or nothing.
    func reserveAlone(
        _ caller: Caller,
        _ key: AssetKey,
        _ assignees: [Assignee],
        ours: HolderIdentity
    ) async throws -> [(TokenID, [Assignment])] {
        try await store.inTenant(caller.tenantID) { tx in
            guard let app = try await tx.app(key) else { throw StoreError.unknownApp(key) }
            for assignee in assignees { try app.asset.checkAssignable(to: assignee) }
            try await Self.checkKnown(tx, assignees)
            // A few named assignees are checked one by one for a clear refusal; in bulk the ledger's unique
            // index refuses (naming them) without reading every holder of the app.
            var already: [String] = []
            for assignee in assignees where assignees.count <= 20 {
                let holding = try await tx.assignments(
                    AssignmentQuery(
                        asset: key,
                        assignee: assignee,
                        states: AssignmentState.Code.holding
                    )
                )
                if !holding.isEmpty { already.append(assignee.text) }
            }
            guard already.isEmpty else { throw UseCaseError.alreadyLicensed(already) }
            // Plan from the pool as it is now, reserve token by token (in a fixed order, so two requests
            // spanning the same tokens never wait on each other in a cycle). When another server took a
            // token's last licences between our read and our update, read again and plan the rest: a request
            // is refused only when the pool, read after every competitor committed, is short.
            // Audited first: the counts' row lock, taken by the reservation, is then held only until commit.
            try await auditTrail.record(
                tx,
                caller,
                AuditEntry(.licenceAssign, .app(key), .reserved, "\(assignees.count) assignee(s)")
            )
            var remaining = assignees[...]
            var result: [(TokenID, [Assignment])] = []
            for _ in 0..<8 where !remaining.isEmpty {
                let plan = try await poolReader.pool(tx, key, ours: ours).allocate(remaining.count)
                for (tokenID, count) in plan.sorted(by: { $0.tokenID < $1.tokenID }) {
                    let group = remaining.prefix(count).map {
                        Assignment(tenantID: caller.tenantID, asset: key, assignee: $0, grantingToken: tokenID)
                    }
                    guard try await tx.reserveLicences(group) else { break }
                    remaining = remaining.dropFirst(count)
                    result.append((tokenID, group))
                }
            }
            guard remaining.isEmpty else {
                throw LicenceError.noLicencesLeft(
                    key,
                    requested: assignees.count,
                    available: assignees.count - remaining.count
                )
            }
            return result
        }
    }

    /// Refuses devices and users the tenant does not know (or whose user is retired), naming them. Reads only
    /// the devices and users named, not the whole inventory.
    static func checkKnown(_ tx: any TenantTransaction, _ assignees: [Assignee]) async throws {
        let serials = assignees.compactMap { if case .device(let s) = $0 { s } else { nil } }
        if !serials.isEmpty {
            let known = Set(try await tx.devices(serials).filter { !$0.isRetired }.map(\.serialNumber))
            let unknown = serials.filter { !known.contains($0) }.map(\.value)
            guard unknown.isEmpty else { throw UseCaseError.unknownDevices(unknown) }
        }
        let users = assignees.compactMap { if case .user(let u) = $0 { u } else { nil } }
        if !users.isEmpty {
            let known = Set(try await tx.users(users).filter(\.canReceiveLicences).map(\.clientUserID))
            let unknown = users.filter { !known.contains($0) }.map(\.value)
            guard unknown.isEmpty else { throw UseCaseError.unknownUsers(unknown) }
        }
    }
}

extension AssignLicences {
    /// This use case with Apple's first `status` poll after `delay` (tests and the demo: at once).
    public func polling(firstAfter delay: TimeInterval) -> AssignLicences {
        var copy = self
        copy.firstPollDelay = delay
        return copy
    }

    /// This use case waiting at most `wait` for its intents to reach Apple before answering.
    public func waiting(forApple wait: Duration) -> AssignLicences {
        var copy = self
        copy.waitForApple = wait
        return copy
    }

    /// This use case sending its intents itself even with an ``IntentScheduler``.
    public func sendingInline() -> AssignLicences {
        var copy = self
        copy.queueInBackground = false
        return copy
    }
}
