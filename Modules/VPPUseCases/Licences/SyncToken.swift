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
    /// Whether Apple's whole asset list was read (a full sync, the catalogue period, a long delta); false when
    /// only the apps the delta named were.
    public var catalogue: Bool = true
}

/// When a sync reads Apple's whole asset list (see ``SyncToken/callAsFunction(_:tokenID:catalogue:)``).
public enum CatalogueRead: Sendable, Hashable {
    /// Every sync: what a person asks for.
    case always
    /// A full sync and the first sync of each catalogue period; in between only the apps a delta names.
    case whenDue
}

/// Apple's numbers a sync reconciles: the whole catalogue (`only` nil) or the apps a delta named.
struct ReconciledAssets {
    var items: [AppleAssetRecord]
    var pages: Int
    var context: AppleResponseContext?
    var only: Set<AssetKey>? = nil
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
    /// How often a sync reads Apple's whole asset list (the counts of apps no delta names: purchases Apple sent
    /// no ASSET_COUNT for); in between an incremental sync reads only the apps its delta names.
    public private(set) var catalogueSeconds: TimeInterval = 3_600
    /// Above this many apps named by a delta, one catalogue read costs fewer Apple requests than one per app.
    public private(set) var maxAppReads = 20

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

    /// - Parameter catalogue: `.always` (a person asked: "I bought licences, sync now") reads Apple's whole asset
    ///   list; `.whenDue` (the job worker's syncs) reads it once per catalogue period and otherwise only the apps
    ///   the assignment delta names.
    public func callAsFunction(
        _ caller: Caller,
        tokenID: TokenID,
        catalogue: CatalogueRead = .always
    ) async throws -> SyncReport {
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
                try await run(caller, token: token, ours: ours, catalogue: catalogue)
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

    private func run(
        _ caller: Caller,
        token: ContentToken,
        ours: HolderIdentity,
        catalogue read: CatalogueRead
    ) async throws -> SyncReport {
        let credentials = try await tokenCredentials.open(caller.tenantID, token.id)
        let previous = try await store.inTenant(caller.tenantID) { tx in try await tx.syncState(token.id) }
        // Apple's whole catalogue is read on a full sync and once per catalogue period; an incremental sync in
        // between reads only the apps its delta names (below). Read before the walk, as always, so an association
        // Apple finishes between the two is counted once (listed and confirmed, or in neither).
        let wantsCatalogue =
            read == .always || previous?.assignmentsVersionID == nil || catalogueDue(previous, at: clock.now())
        let catalogue = wantsCatalogue ? try await apple.assets(credentials, filter: AppleAssetFilter()) : nil
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
        let assets = try await assetsToReconcile(
            catalogue: catalogue,
            incremental: incremental,
            credentials: credentials,
            named: {
                try await store.inTenant(tenantID) { tx in try await tx.stagedAssets(syncID: syncID, tokenID: tokenID) }
            }
        )
        let counts = Dictionary(assets.items.map { ($0.asset.key, $0.counts) }, uniquingKeysWith: { first, _ in first })
        // Every Apple answer carries the token's expiry and holder; the walk's, when no asset was read.
        let context = assets.context ?? assignments.context
        var updated = token
        if let expiry = context.tokenExpiresAt { updated.expiresAt = expiry }
        updated.observedHolder = context.holder ?? ours
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
            // A partial sync locks only the apps its delta names: the merge moves and inserts rows of those
            // apps alone, so a reservation of any other app can neither interleave with nor be undone by it.
            try await tx.lockCounts(tokenID: token.id, only: assets.only)
            let merged = try await tx.mergeStagedAssignments(
                syncID: syncID,
                tokenID: token.id,
                fullSnapshot: !isIncremental
            )
            try await tx.replaceCounts(tokenID: token.id, counts, recounting: merged.touched, only: assets.only)
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
                "catalogue": "\(assets.only == nil)",
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
            pages: assets.pages + walk.pagesFetched,
            catalogue: assets.only == nil
        )
    }

    /// Apple's numbers to reconcile: the catalogue read before the walk; else, for an incremental sync whose
    /// delta names at most ``maxAppReads`` apps, those apps alone (one `GET assets?adamId=` each), so the sync's
    /// cost follows the change and not the catalogue; else the whole catalogue after all.
    private func assetsToReconcile(
        catalogue: AppleWalk<AppleAssetRecord>?,
        incremental: Bool,
        credentials: AppleCredentials,
        named: () async throws -> Set<AssetKey>
    ) async throws -> ReconciledAssets {
        if let catalogue {
            return ReconciledAssets(items: catalogue.items, pages: catalogue.pagesFetched, context: catalogue.context)
        }
        if incremental {
            let keys = try await named()
            let adamIDs = Set(keys.map(\.adamID))
            if adamIDs.count <= maxAppReads {
                // An association Apple finishes between the walk and these reads is counted twice (confirmed
                // rows and Apple's count) until the next sync that names the app: one licence too few offered,
                // never one too many.
                var found = ReconciledAssets(items: [], pages: 0, context: nil, only: keys)
                for adamID in adamIDs.sorted() {
                    let walk = try await apple.assets(credentials, filter: AppleAssetFilter(adamID: adamID))
                    found.items += walk.items.filter { $0.asset.key.adamID == adamID }
                    found.pages += walk.pagesFetched
                    found.context = walk.context
                }
                return found
            }
        }
        let whole = try await apple.assets(credentials, filter: AppleAssetFilter())
        return ReconciledAssets(items: whole.items, pages: whole.pagesFetched, context: whole.context)
    }

    /// Whether this sync reads Apple's whole catalogue: the first sync of each catalogue period (by the clock, so
    /// every token's catalogue is read at least once a period whatever its sync rhythm).
    private func catalogueDue(_ previous: TokenSyncState?, at now: Date) -> Bool {
        guard let last = previous?.lastSuccessAt else { return true }
        let period = max(1, catalogueSeconds)
        return floor(last.timeIntervalSince1970 / period) != floor(now.timeIntervalSince1970 / period)
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

    /// This use case reading Apple's whole catalogue every `seconds` and one app at a time for deltas naming at
    /// most `maxAppReads` apps (tests).
    public func cataloguing(every seconds: TimeInterval, maxAppReads: Int = 20) -> SyncToken {
        var copy = self
        copy.catalogueSeconds = seconds
        copy.maxAppReads = maxAppReads
        return copy
    }
}
