import Foundation
import Logging
import Synchronization
import VPPDomain

/// What one sync did.
public struct SyncReport: Sendable, Hashable {
    public var assets: Int
    public var assignmentsFromApple: Int
    public var inserted: Int
    public var deleted: Int
    public var incremental: Bool
    public var pages: Int
}

/// Sync one token with Apple: limits, every asset page, assignments (in full the first time, then by
/// `sinceVersionId`), counts and app metadata. One sync per token at a time across all servers (a lease);
/// a failed sync keeps the last good state and records why; a token Apple refuses is marked so.
public struct SyncToken: Sendable {
    let store: any Store
    let clock: any Clock
    let apple: any AppleAppsAndBooks
    let metadata: (any AppMetadataLookup)?
    let logger: Logger
    let tokenCredentials: TokenCredentials
    let auditTrail: AuditTrail
    let health: TokenHealth
    /// How long a sync's lease lasts without a heartbeat: a server killed mid-sync blocks that token's syncs
    /// at most this long; a live sync renews it every third of it (``HeldLease``), however long Apple takes.
    public private(set) var leaseSeconds: TimeInterval = 60

    /// Takes only what this use case touches.
    public init(
        store: any Store,
        clock: any Clock,
        apple: any AppleAppsAndBooks,
        metadata: (any AppMetadataLookup)?,
        logger: Logger,
        tokenCredentials: TokenCredentials,
        auditTrail: AuditTrail,
        health: TokenHealth
    ) {
        self.store = store
        self.clock = clock
        self.apple = apple
        self.metadata = metadata
        self.logger = logger
        self.tokenCredentials = tokenCredentials
        self.auditTrail = auditTrail
        self.health = health
    }

    public func callAsFunction(_ caller: Caller, tokenID: TokenID) async throws -> SyncReport {
        try caller.require(.manageLicences)
        let now = clock.now()
        guard let token = try await store.inTenant(caller.tenantID, { tx in try await tx.token(tokenID) })
        else {
            throw StoreError.unknownToken(tokenID)
        }
        let ours = try await tokenCredentials.holder(of: caller.tenantID)
        let status = token.status(at: now, ourHolder: ours)
        guard status.isUsable else {
            // Recorded as an attempt, so the scheduler does not ask again before the retry interval.
            try await store.inTenant(caller.tenantID) { tx in
                var state = try await tx.syncState(tokenID) ?? TokenSyncState(tokenID: tokenID)
                state.lastAttemptAt = now
                try await tx.saveSyncState(state)
            }
            throw UseCaseError.tokenUnusable(
                location: token.location.name,
                status: status.code,
                nextStep: status.nextStep
            )
        }
        let owner = "sync-\(UUID().uuidString)"
        let lease = "sync:\(tokenID)"
        guard
            try await store.acquireLease(
                tenant: caller.tenantID,
                name: lease,
                owner: owner,
                now: now,
                ttl: leaseSeconds
            )
        else {
            throw UseCaseError.syncInProgress(location: token.location.name)
        }
        do {
            let held = HeldLease(
                store: store,
                clock: clock,
                logger: logger,
                tenant: caller.tenantID,
                name: lease,
                owner: owner,
                ttl: leaseSeconds
            )
            let report = try await held.run(lost: UseCaseError.syncInProgress(location: token.location.name)) {
                try await run(caller, token: token, ours: ours)
            }
            try await store.releaseLease(tenant: caller.tenantID, name: lease, owner: owner)
            // Apple's counts may have moved: scopes follow them.
            try await RequestReconcile(store: store, clock: clock).ifScoped(caller.tenantID)
            return report
        } catch {
            // Give the lease back on every failure; if even that fails, it expires by itself.
            try? await store.releaseLease(tenant: caller.tenantID, name: lease, owner: owner)
            if let appleError = error as? AppleAPIError {
                try await recordFailure(caller, token: token, error: appleError)
            }
            throw error
        }
    }

    private func run(_ caller: Caller, token: ContentToken, ours: HolderIdentity) async throws -> SyncReport {
        let credentials = try await tokenCredentials.open(caller.tenantID, token.id)
        let previous = try await store.inTenant(caller.tenantID) { tx in try await tx.syncState(token.id) }
        let assets = try await apple.assets(credentials, filter: AppleAssetFilter())
        // Apple's assignment list streams into the database page by page (memory stays flat however long it
        // is) and is merged in the one transaction below, so a sync still commits one consistent snapshot.
        let syncID = UUID()
        let tenantID = caller.tenantID
        let tokenID = token.id
        try await store.inTenant(tenantID) { tx in
            try await tx.clearStagedAssignments(tokenID: tokenID, syncID: nil)
        }
        let received = ReceivedCount()
        @Sendable func stream(since: String?) async throws -> AppleWalk<AppleAssignmentRecord> {
            try await apple.streamAssignments(
                credentials,
                filter: AppleAssignmentFilter(sinceVersionID: since),
                restart: {
                    received.reset()
                    try await store.inTenant(tenantID) { tx in
                        try await tx.clearStagedAssignments(tokenID: tokenID, syncID: syncID)
                    }
                },
                page: { records in
                    received.add(records.count)
                    try await store.inTenant(tenantID) { tx in
                        try await tx.stageAppleAssignments(syncID: syncID, tokenID: tokenID, records)
                    }
                }
            )
        }
        var incremental = previous?.assignmentsVersionID != nil
        var assignments: AppleWalk<AppleAssignmentRecord>
        do {
            assignments = try await stream(since: previous?.assignmentsVersionID)
        } catch AppleAPIError.badVersionID {
            incremental = false
            received.reset()
            try await store.inTenant(tenantID) { tx in
                try await tx.clearStagedAssignments(tokenID: tokenID, syncID: syncID)
            }
            assignments = try await stream(since: nil)
        }
        let counts = Dictionary(assets.items.map { ($0.asset.key, $0.counts) }, uniquingKeysWith: { first, _ in first })
        var updated = token
        if let expiry = assets.context.tokenExpiresAt { updated.expiresAt = expiry }
        updated.observedHolder = assets.context.holder ?? ours
        let finished = clock.now()
        let refreshed = updated
        let walk = assignments
        let isIncremental = incremental
        // A sync whose lease was lost (``HeldLease`` cancels it) must not commit over the new holder's work.
        try Task.checkCancellation()
        let merged = try await store.inTenant(caller.tenantID) { tx in
            try await tx.upsertApps(assets.items.map(\.asset))
            // The counts stay locked from here to the commit: a reservation on any server waits for the
            // reconciled numbers instead of interleaving with them (it is neither lost nor wrongly refused).
            try await tx.lockCounts(tokenID: token.id)
            let merged = try await tx.mergeStagedAssignments(
                syncID: syncID,
                tokenID: token.id,
                fullSnapshot: !isIncremental
            )
            try await tx.replaceCounts(tokenID: token.id, counts, recounting: merged.touched)
            try await LicenceLedger.confirmed(tx, merged.confirmed, now: finished)
            try await LicenceLedger.revoked(tx, merged.revoked, now: finished)
            try await tx.updateToken(refreshed)
            try await tx.saveSyncState(
                TokenSyncState(
                    tokenID: token.id,
                    assignmentsVersionID: walk.versionID,
                    lastSuccessAt: finished,
                    lastAttemptAt: finished,
                    lastError: nil,
                    consecutiveFailures: 0
                )
            )
            return merged
        }
        await refreshMetadata(caller, country: token.location.countryCode, credentials: credentials)
        logger.info(
            "synced token",
            metadata: [
                "location": "\(token.location.name)", "assets": "\(assets.items.count)",
                "assignments": "\(received.value)",
                "incremental": "\(isIncremental)",
            ]
        )
        return SyncReport(
            assets: assets.items.count,
            assignmentsFromApple: received.value,
            inserted: merged.inserted,
            deleted: merged.deleted,
            incremental: isIncremental,
            pages: assets.pagesFetched + walk.pagesFetched
        )
    }

    /// Fills in names, bundle ids, icons and versions for apps that have none yet, a batch at a time (never the
    /// whole catalogue). Best effort: a metadata failure never fails the sync.
    private func refreshMetadata(_ caller: Caller, country: String, credentials: AppleCredentials) async {
        guard let lookup = metadata else { return }
        let batch = 1_000
        // Apps Apple has no metadata for stay missing; remember them so each batch asks only for new ones.
        var asked = Set<String>()
        do {
            while true {
                let limit = asked.count + batch
                let missing = try await store.inTenant(caller.tenantID) { tx in
                    try await tx.appsMissingMetadata(limit: limit)
                }.filter { !asked.contains($0.asset.key.adamID) }.prefix(batch)
                guard !missing.isEmpty else { return }
                asked.formUnion(missing.map(\.asset.key.adamID))
                let found = try await lookup.metadata(
                    adamIDs: missing.map(\.asset.key.adamID),
                    countryCode: country,
                    credentials: credentials
                )
                try await store.inTenant(caller.tenantID) { tx in
                    for app in missing {
                        if let metadata = found[app.asset.key.adamID] {
                            try await tx.setMetadata(metadata, for: app.asset.key)
                        }
                    }
                }
                if missing.count < batch { return }
            }
        } catch {
            logger.warning("metadata lookup failed", metadata: ["error": "\(error)"])
        }
    }

    private func recordFailure(_ caller: Caller, token: ContentToken, error: AppleAPIError) async throws {
        try await health.record(error, tokenID: token.id, caller: caller)
        let now = clock.now()
        try await store.inTenant(caller.tenantID) { tx in
            var state = try await tx.syncState(token.id) ?? TokenSyncState(tokenID: token.id)
            state.lastAttemptAt = now
            state.lastError = error.description
            state.consecutiveFailures += 1
            try await tx.saveSyncState(state)
            try await auditTrail.record(
                tx,
                caller,
                AuditEntry(.tokenSync, .token(location: token.location.name), .failed, error.description)
            )
        }
    }
}

/// How many assignments a streaming walk has delivered (reset when the walk starts again).
final class ReceivedCount: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func add(_ n: Int) { count.withLock { $0 += n } }
    func reset() { count.withLock { $0 = 0 } }
}

extension SyncToken {
    /// This use case holding the token's sync lease for `seconds` at a time (tests: a short lease).
    public func leased(for seconds: TimeInterval) -> SyncToken {
        var copy = self
        copy.leaseSeconds = seconds
        return copy
    }
}
