import Foundation
import VPPDomain

/// The storage port: PostgreSQL for many servers and tenants, SQLite for one machine.
///
/// All tenant data is reached through ``inTenant(_:_:)``, a unit of work bound to one tenant: the use
/// case's rows, counts, outbox entries and audit record commit together or not at all, and no query
/// inside can reach another tenant's rows.
public protocol Store: Sendable, MDMDirectory, ConsoleDirectory, AccessDirectory {
    /// Creates a tenant; its name must be unique.
    func createTenant(_ tenant: Tenant) async throws
    func tenant(_ id: TenantID) async throws -> Tenant?
    func tenant(named name: String) async throws -> Tenant?
    func tenants() async throws -> [Tenant]
    /// The tenant whose `mdmInfo` id this is (to recognise another tenant of ours holding a token).
    func tenant(holderID: String) async throws -> Tenant?
    /// Finds an API key by the SHA-256 of the key presented; the only lookup not scoped by tenant.
    func apiKey(hash: String) async throws -> APIKeyRecord?
    /// The tenant owning a token: Apple's webhook URL names only the token.
    func tenantOwning(tokenID: TokenID) async throws -> TenantID?
    /// Runs `body` in one transaction bound to `tenant`.
    func inTenant<T: Sendable>(
        _ tenant: TenantID, _ body: @Sendable (any TenantTransaction) async throws -> T
    ) async throws -> T
    /// Takes the named lease for `ttl` unless another owner holds an unexpired one; returns whether it did.
    /// Used so that one sync per token runs at a time across all servers.
    func acquireLease(tenant: TenantID, name: String, owner: String, now: Date, ttl: TimeInterval) async throws -> Bool
    /// Extends a lease `owner` still holds to `now + ttl` (the holder's heartbeat, so a short lease can
    /// cover long work); returns false, changing nothing, when the lease expired and another owner took it.
    func renewLease(tenant: TenantID, name: String, owner: String, now: Date, ttl: TimeInterval) async throws -> Bool
    /// Gives the lease back (only if `owner` still holds it).
    func releaseLease(tenant: TenantID, name: String, owner: String) async throws
    /// Recurring work due now across all tenants (indexed queries, at most `limit` of each kind); a sync is
    /// due when its last success is older than `syncInterval` and its last attempt older than `retryAfter`.
    func dueWork(now: Date, syncInterval: TimeInterval, retryAfter: TimeInterval, limit: Int) async throws -> DueWork
    /// Queued Apple intents whose claim is free or expired, across all tenants (one indexed query).
    func dueIntents(now: Date, limit: Int) async throws -> [IntentGroup]
    /// The shared background-job queue.
    var jobs: any JobQueue { get }
    /// A per-key request limiter shared by every server using this store (Apple's 15 rps per token).
    var requestLimiter: any AppleRequestLimiter { get }
}

/// Everything a use case may read or write for one tenant, inside one transaction.
public protocol TenantTransaction: Sendable, MDMRecords, ConsoleRecords, AccessRecords, InventoryRecords, AuditRecords {
    var tenantID: TenantID { get }

    // MARK: API keys
    func insertAPIKey(_ key: APIKeyRecord) async throws
    func apiKeys() async throws -> [APIKeyRecord]

    // MARK: Tokens
    /// Throws ``StoreError/duplicateLocation(locationName:)`` when the tenant already has the location.
    func insertToken(_ token: ContentToken, secret: SealedSecret) async throws
    func updateToken(_ token: ContentToken) async throws
    func replaceTokenSecret(_ id: TokenID, secret: SealedSecret) async throws
    func token(_ id: TokenID) async throws -> ContentToken?
    func token(locationAppleID: String) async throws -> ContentToken?
    func tokenSecret(_ id: TokenID) async throws -> SealedSecret?
    func tokens() async throws -> [ContentToken]
    /// Deletes the token with its counts, assignments, sync state and pending events.
    func deleteToken(_ id: TokenID) async throws
    /// The bearer Apple puts on notifications for this token (sealed).
    func setNotificationSecret(_ id: TokenID, secret: SealedSecret) async throws
    func notificationSecret(_ id: TokenID) async throws -> SealedSecret?
    /// Records a notification id; false when it was already handled (Apple retries and duplicates).
    func markNotificationProcessed(_ notificationID: String, type: String, at: Date) async throws -> Bool
    func syncState(_ id: TokenID) async throws -> TokenSyncState?
    func saveSyncState(_ state: TokenSyncState) async throws

    // MARK: Catalogue and counts
    func upsertApps(_ assets: [Asset]) async throws
    func setMetadata(_ metadata: AppMetadata, for asset: AssetKey) async throws
    func apps() async throws -> [AppRecord]
    func app(_ key: AssetKey) async throws -> AppRecord?
    func counts(tokenID: TokenID?) async throws -> [TokenAssetCounts]
    /// One app's counts on every token that carries it.
    func counts(asset: AssetKey) async throws -> [TokenAssetCounts]
    /// Applies Apple's ASSET_COUNT `countDelta` (a purchase, transfer or refund) to one token's counts.
    func adjustCounts(tokenID: TokenID, asset: AssetKey, delta: Int) async throws
    /// Removes repository entries no token carries any more; returns them.
    func deleteOrphanApps() async throws -> [AssetKey]

    // MARK: Licences: the ledger
    // Counts change in the same transaction as the rows that justify them: `assigned` is the number of
    // rows holding a licence (in flight or confirmed), `available` is Apple's total less what Apple
    // withholds and less `assigned`. Reservations take the count with one conditional UPDATE.

    /// Records `assignments` (all of one asset and one token, in ``AssignmentState/reserved``) and takes
    /// their licences from the token's available count, atomically and only if that many are left.
    /// Returns false, changing nothing, when too few are left. Concurrent callers on any server never
    /// oversell. Throws ``StoreError/alreadyLicensed(_:)`` when an assignee already holds the app.
    func reserveLicences(_ assignments: [Assignment]) async throws -> Bool
    /// Takes `count` licences of `asset` from `tokenID`'s available count (counts only; tests and benchmarks).
    func reserve(_ asset: AssetKey, from tokenID: TokenID, count: Int) async throws -> Bool
    /// Gives `count` licences back to the count (counts only; tests).
    func release(_ asset: AssetKey, to tokenID: TokenID, count: Int) async throws
    /// Records rows as they are (fixtures and imports); counts are not touched.
    func insertAssignments(_ assignments: [Assignment]) async throws
    func assignments(_ query: AssignmentQuery) async throws -> [Assignment]
    /// Moves licences through the domain's state machine. Rows whose current state cannot move to `state`
    /// are left alone (another server got there first); counts follow the rows that moved.
    /// - Returns: the rows that moved, in their new state.
    @discardableResult
    func move(_ ids: [AssignmentID], to state: AssignmentState) async throws -> [Assignment]
    /// Marks licences whose assignment Apple has not settled: they are revoked once it does.
    func requestRevoke(_ ids: [AssignmentID]) async throws
    func deleteAssignments(_ ids: [AssignmentID]) async throws
    /// Claims up to `limit` queued intents (rows in `state`: reserved = associate, revocationQueued =
    /// disassociate) of one token and asset whose claim is free or expired, for `until`; counts the attempt.
    func claimIntents(
        tokenID: TokenID, asset: AssetKey, state: AssignmentState.Code, owner: String, now: Date,
        until: Date, limit: Int
    ) async throws -> [ClaimedIntent]
    /// Of these reservations, the ones no worker has ever claimed (never sent to Apple), locked so no worker
    /// claims them before the transaction ends.
    func unsentIntents(_ ids: [AssignmentID], now: Date) async throws -> [AssignmentID]
    /// Gives claimed intents back to be tried again at `retryAt` (a transient failure).
    func retryIntents(_ ids: [AssignmentID], at retryAt: Date) async throws
    /// Locks the token's counts until the transaction ends, so no reservation interleaves with a sync.
    func lockCounts(tokenID: TokenID) async throws
    /// Reconciles a token's counts with Apple's snapshot: totals from Apple, `assigned` recounted from the
    /// rows holding a licence. Call after ``mergeAppleAssignments(tokenID:_:fullSnapshot:)`` in the same
    /// transaction, after ``lockCounts(tokenID:)``. Assets not listed drop from the token.
    func replaceCounts(tokenID: TokenID, _ counts: [AssetKey: LicenceCounts]) async throws
    /// Makes our assignments of `tokenID` equal Apple's list (the full or incremental sync), in batches.
    func mergeAppleAssignments(
        tokenID: TokenID, _ records: [AppleAssignmentRecord], fullSnapshot: Bool
    ) async throws -> MergeOutcome
    /// Stages one page of Apple's assignment list for the sync `syncID` (a streaming sync writes each page as
    /// it arrives, so memory does not grow with the list).
    func stageAppleAssignments(syncID: UUID, tokenID: TokenID, _ records: [AppleAssignmentRecord]) async throws
    /// Forgets staged pages: one sync's (`syncID`), or every sync's of the token (nil: a dead sync's leftovers).
    func clearStagedAssignments(tokenID: TokenID, syncID: UUID?) async throws
    /// Merges a sync's staged list into the ledger, set-based in the database; clears the staged rows.
    func mergeStagedAssignments(syncID: UUID, tokenID: TokenID, fullSnapshot: Bool) async throws -> MergeOutcome

    // MARK: Outboxes, events and audit
    func enqueueDeviceCommands(_ commands: [DeviceCommand]) async throws
    func deviceCommands() async throws -> [DeviceCommand]
    /// Inserts the notice unless one with the same (token, kind, expiry) exists; returns whether it did.
    func enqueueNotice(_ notice: Notice) async throws -> Bool
    func notices() async throws -> [Notice]
    /// Notices not yet sent whose next attempt is due (an index range, not every notice ever sent).
    func dueNotices(now: Date, limit: Int) async throws -> [Notice]
    func updateNotice(_ notice: Notice) async throws
    func insertPendingEvents(_ events: [PendingAppleEvent]) async throws
    func pendingEvents() async throws -> [PendingAppleEvent]
    func deletePendingEvent(_ eventID: String) async throws
}
