import Foundation
import Logging
import VPPDomain

/// Carries out a tenant's queued declaration-set changes at its DDM server: publishes each app's declaration,
/// then puts the device's enrollment in the app's set (join) or takes it out (leave).
///
/// Changes are claimed with a lease, as device commands are: two servers never carry out one at once, and one
/// left by a server that died is taken up by another after the lease. Every call to the DDM server is idempotent
/// (a declaration stored again with the same ServerToken, an enrollment put in a set it is in), so a change
/// carried out twice has one effect. Failures retry with the device commands' back-off and stay visible.
public struct DeliverDeclarationSetChanges: Sendable {
    let store: any Store
    let clock: any Clock
    let logger: Logger
    let publisher: any DeclarationPublisher
    public let batchSize = 200

    /// Takes only what this use case touches; `publisher` is the tenant's DDM server.
    public init(store: any Store, clock: any Clock, logger: Logger, publisher: any DeclarationPublisher) {
        self.store = store
        self.clock = clock
        self.logger = logger
        self.publisher = publisher
    }

    /// Counts of one run.
    public struct Outcome: Hashable, Sendable {
        public var joined = 0, left = 0, retried = 0, failed = 0
        /// Declarations published again with a new ServerToken (healing `Error.LicenseNotFound`).
        public var republished = 0
        public init() {}
    }

    /// Carries out due changes until none is left (or a batch makes no progress). `owner` names this server's claims.
    @discardableResult
    public func callAsFunction(_ tenantID: TenantID, owner: String) async throws -> Outcome {
        var total = Outcome()
        total.republished = try await republish(tenantID)
        for _ in 0..<50 {
            let outcome = try await deliverBatch(tenantID, owner: owner)
            total.joined += outcome.joined
            total.left += outcome.left
            total.retried += outcome.retried
            total.failed += outcome.failed
            if outcome.joined + outcome.left + outcome.failed == 0 { break }
        }
        return total
    }

    func deliverBatch(_ tenantID: TenantID, owner: String) async throws -> Outcome {
        let now = clock.now()
        let (claimed, enrollments, publications, terms) = try await store.inTenant(tenantID) { tx in
            let claimed = try await tx.claimDueDeclarationSetChanges(
                owner: owner,
                now: now,
                lease: DeliveryPolicy.claimLease,
                limit: batchSize
            )
            // Keyed by the change's enrollee: a device's serial, or "user <clientUserId>" for a user licence.
            var enrollments: [String: String] = [:]
            for serial in Set(claimed.filter { $0.change.clientUserID == nil }.map(\.change.serialNumber)) {
                if let number = try? SerialNumber(serial), let device = try await tx.mdmDevice(serial: number),
                    device.enrollment.state != .unenrolled, let id = device.enrollment.enrollmentID
                {
                    enrollments[serial] = id
                }
            }
            let users = claimed.compactMap(\.change.clientUserID)
            if !users.isEmpty {
                for (user, id) in try await tx.userEnrollments(users) { enrollments["user \(user.value)"] = id }
            }
            return (
                claimed, enrollments, claimed.isEmpty ? [:] : try await tx.declarationPublications(),
                try await Self.terms(tx, Set(claimed.map(\.change.asset)))
            )
        }
        guard !claimed.isEmpty else { return Outcome() }
        var outcome = Outcome()
        var results: [(UUID, DeclarationSetChangeState, Date?, String?)] = []
        // Enrollments (devices' or users') that joined a set: their status is read back from KMFDDM until they
        // settle (PollDeclarationStatus).
        var joinedEnrollments: [String] = []
        func retry(_ record: DeclarationSetChangeRecord, _ reason: String, after: TimeInterval? = nil) {
            let delay = after ?? DeliveryPolicy.retryDelay(attempt: record.attempts)
            let expired = now.timeIntervalSince(record.change.createdAt) > DeliveryPolicy.deliveryTimeout
            results.append(
                (
                    record.change.id, expired ? .failed : .queued, now.addingTimeInterval(delay),
                    String(reason.prefix(500))
                )
            )
            if expired { outcome.failed += 1 } else { outcome.retried += 1 }
        }
        // The declarations first, once per app and licence kind in the batch: a set change never points the
        // device at a declaration the DDM server does not hold.
        var published: [String: DeliveryOutcome] = [:]
        for record in claimed where record.change.kind == .join {
            let change = record.change
            guard
                let declaration = try? ManagedAppDeclaration(
                    asset: change.asset,
                    assignment: change.licenceKind,
                    terms: terms[change.asset] ?? .standard
                ),
                published[declaration.identifier] == nil
            else { continue }
            do {
                let document = try declaration.document(publication: publications[declaration.identifier] ?? 0)
                published[declaration.identifier] = await publisher.publish(
                    document,
                    identifier: declaration.identifier,
                    set: declaration.identifier
                )
            } catch {
                published[declaration.identifier] = .refused("\(error)")
            }
        }
        // One change at a time, oldest first, so a licence's join reaches the server before its leave.
        for record in claimed {
            let change = record.change
            guard let declaration = try? ManagedAppDeclaration(asset: change.asset, assignment: change.licenceKind)
            else {
                results.append((change.id, .failed, nil, "adamId \(change.asset.adamID) cannot be declared"))
                outcome.failed += 1
                continue
            }
            if change.kind == .join, let publishing = published[declaration.identifier], publishing != .delivered {
                switch publishing {
                case .retry(let reason, let after): retry(record, "declaration not published: \(reason)", after: after)
                case .refused(let reason), .endpointGone(let reason):
                    results.append((change.id, .failed, nil, "declaration refused: \(reason)"))
                    outcome.failed += 1
                case .delivered: break
                }
                continue
            }
            guard let enrollmentID = enrollments[change.enrollee] else {
                if change.kind == .leave {
                    // A device that left MDM (or a user with no enrollment left) has nothing to take out of the set.
                    let why = change.clientUserID == nil ? "the device is not enrolled" : "the user has no enrollment"
                    results.append((change.id, .done, nil, why))
                    outcome.left += 1
                } else if let user = change.clientUserID {
                    retry(
                        record,
                        "user \(user.value) has no MDM enrollment (PUT /v1/users/\(user.value)/enrollment, "
                            + "vppctl user enrollment)"
                    )
                } else {
                    retry(record, "device \(change.serialNumber) is not enrolled in MDM (no enrollment id yet)")
                }
                continue
            }
            switch await publisher.setMembership(
                enrollmentID: enrollmentID,
                set: declaration.identifier,
                member: change.kind == .join,
                changeID: change.id
            )
            {
            case .delivered:
                results.append((change.id, .done, nil, nil))
                if change.kind == .join {
                    outcome.joined += 1
                    joinedEnrollments.append(enrollmentID)
                } else {
                    outcome.left += 1
                }
            case .retry(let reason, let after):
                retry(record, reason, after: after)
            case .refused(let reason), .endpointGone(let reason):
                results.append((change.id, .failed, nil, reason))
                outcome.failed += 1
            }
        }
        let at = clock.now()
        // One statement per distinct outcome (nearly always one: the whole batch done), not one per change: the
        // finishing transaction holds the batch's rows until it commits, and devices' status reports for those
        // rows wait for it (10,000 joins were 10,000 UPDATEs, the most time of any statement in the benchmark).
        let outcomes = Dictionary(grouping: results) { Finished(state: $0.1, next: $0.2, error: $0.3) }
            .mapValues { $0.map(\.0) }
            .sorted { $0.value.count > $1.value.count }
        let joined = joinedEnrollments
        try await store.inTenant(tenantID) { tx in
            for (finished, ids) in outcomes {
                try await tx.finishDeclarationSetChanges(
                    ids,
                    owner: owner,
                    state: finished.state,
                    nextAttemptAt: finished.next,
                    lastError: finished.error,
                    at: at
                )
            }
            try await tx.armStatusPolls(enrollmentIDs: joined, at: at)
        }
        if outcome.retried + outcome.failed > 0 {
            logger.warning(
                "declaration set changes not carried out",
                metadata: ["tenant": "\(tenantID)", "retried": "\(outcome.retried)", "failed": "\(outcome.failed)"]
            )
        }
        return outcome
    }

    /// One result that several changes of a batch share.
    struct Finished: Hashable {
        let state: DeclarationSetChangeState
        let next: Date?
        let error: String?
    }

    /// What the scopes naming each app say about its declaration (one indexed read per app).
    static func terms(_ tx: any TenantTransaction, _ assets: Set<AssetKey>) async throws -> [AssetKey: DeclarationTerms]
    {
        var terms: [AssetKey: DeclarationTerms] = [:]
        for asset in assets { terms[asset] = DeclarationTerms.forApp(asset, scopes: try await tx.scopes(of: asset)) }
        return terms
    }

    /// Publishes again, with a new ServerToken, the declarations a heal asked for (their publication number went
    /// up); the joins waiting for it are then `republished`. A failure stays due and is tried on the next run.
    func republish(_ tenantID: TenantID) async throws -> Int {
        let (due, terms) = try await store.inTenant(tenantID) { tx in
            let due = try await tx.dueRepublications()
            return (due, try await Self.terms(tx, Set(due.map(\.asset))))
        }
        var done = 0
        for (asset, kind, publication) in due {
            guard
                let declaration = try? ManagedAppDeclaration(
                    asset: asset,
                    assignment: kind,
                    terms: terms[asset] ?? .standard
                )
            else { continue }
            let outcome: DeliveryOutcome
            do {
                outcome = await publisher.publish(
                    try declaration.document(publication: publication),
                    identifier: declaration.identifier,
                    set: declaration.identifier
                )
            } catch {
                outcome = .refused("\(error)")
            }
            guard outcome == .delivered else {
                logger.warning(
                    "declaration not re-published",
                    metadata: [
                        "tenant": "\(tenantID)", "declaration": "\(declaration.identifier)", "outcome": "\(outcome)",
                    ]
                )
                continue
            }
            let now = clock.now()
            try await store.inTenant(tenantID) { tx in
                try await tx.markRepublished(asset: asset, kind: kind, publication: publication, now: now)
            }
            done += 1
        }
        return done
    }
}
