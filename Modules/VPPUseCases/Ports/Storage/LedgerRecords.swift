import Foundation
import VPPDomain

/// A queued Apple write (a reserved licence to associate, or a queued revoke) claimed by one worker.
public struct ClaimedIntent: Hashable, Sendable {
    public let assignment: Assignment
    /// How many times a worker has claimed it, this claim included. Above one the earlier worker may have
    /// reached Apple before it died, so Apple is asked what it holds before the request is sent again.
    public let attempts: Int

    public init(assignment: Assignment, attempts: Int) {
        self.assignment = assignment
        self.attempts = attempts
    }
}

/// Queued intents of one tenant, token and asset that a worker may carry out together.
public struct IntentGroup: Hashable, Sendable {
    public let tenantID: TenantID
    public let tokenID: TokenID
    public let asset: AssetKey
    public let state: AssignmentState.Code

    public init(tenantID: TenantID, tokenID: TokenID, asset: AssetKey, state: AssignmentState.Code) {
        self.tenantID = tenantID
        self.tokenID = tokenID
        self.asset = asset
        self.state = state
    }
}

/// What merging Apple's assignment list changed.
public struct MergeOutcome: Hashable, Sendable {
    /// Apple's assignments we had no row for.
    public var inserted: Int
    /// Our rows Apple no longer lists (a full snapshot only).
    public var deleted: Int
    /// Our rows Apple turned out to hold (reserved, pending, failed or revoked before): now active.
    public var confirmed: [Assignment]
    /// Our rows whose revoke Apple carried out (it no longer lists them): now revoked.
    public var revoked: [Assignment]
    /// The assets an incremental merge's delta touched, for
    /// ``LedgerRecords/replaceCounts(tokenID:_:recounting:only:)``; nil after a full snapshot (every asset is
    /// recounted).
    public var touched: Set<AssetKey>?

    public init(
        inserted: Int = 0,
        deleted: Int = 0,
        confirmed: [Assignment] = [],
        revoked: [Assignment] = [],
        touched: Set<AssetKey>? = nil
    ) {
        self.inserted = inserted
        self.deleted = deleted
        self.confirmed = confirmed
        self.revoked = revoked
        self.touched = touched
    }
}

/// The licence ledger of one tenant: one row per licence we hold, reserve or revoke, moved through the
/// domain's state machine, with Apple's assignment list merged in by syncs (see ``TenantTransaction``).
///
/// Counts change in the same transaction as the rows that justify them: `assigned` is the number of rows
/// holding a licence (in flight or confirmed), `available` is Apple's total less what Apple withholds and less
/// `assigned`. Reservations take the count with one conditional UPDATE.
public protocol LedgerRecords: Sendable {
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
    /// How many licences `query` selects (its paging fields are ignored).
    func assignmentCount(_ query: AssignmentQuery) async throws -> Int
    /// Active licences of revocable apps held by a retired device or a retired managed user (what reclaiming
    /// takes back), by id; found in one statement, without reading the inventory.
    func activeLicencesOfRetired() async throws -> [Assignment]
    /// Active licences held by these devices (every app), by id: an indexed lookup, not the ledger.
    func activeLicences(serials: [SerialNumber]) async throws -> [Assignment]
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
        tokenID: TokenID,
        asset: AssetKey,
        state: AssignmentState.Code,
        owner: String,
        now: Date,
        until: Date,
        limit: Int
    ) async throws -> [ClaimedIntent]
    /// Of these reservations, the ones no worker has ever claimed (never sent to Apple), locked so no worker
    /// claims them before the transaction ends.
    func unsentIntents(_ ids: [AssignmentID], now: Date) async throws -> [AssignmentID]
    /// Gives claimed intents back to be tried again at `retryAt` (a transient failure).
    func retryIntents(_ ids: [AssignmentID], at retryAt: Date) async throws
    /// Locks the token's counts until the transaction ends, so no reservation interleaves with a sync: every
    /// asset's (`only` nil), or only these assets' (an incremental sync locks what its delta names, so a
    /// reservation of another app does not wait for it and the lock's cost does not grow with the catalogue).
    func lockCounts(tokenID: TokenID, only assets: Set<AssetKey>?) async throws
    /// Reconciles a token's counts with Apple's snapshot: totals from Apple, `assigned` recounted from the
    /// rows holding a licence. Call after ``mergeAppleAssignments(tokenID:_:fullSnapshot:)`` in the same
    /// transaction, after ``lockCounts(tokenID:)``. Assets not listed drop from the token.
    /// `recounting` limits the recount to these assets (an incremental merge's ``MergeOutcome/touched``, plus any
    /// asset new to the token): the others' `assigned` is exact already, kept by every reservation, move and
    /// delete. nil recounts every asset (a full snapshot).
    /// `only` makes `counts` a partial snapshot (Apple's numbers of these assets alone, read by `adamId`): only these
    /// assets are reconciled and recounted, an asset of `only` missing from `counts` drops, the others stay as
    /// they are. nil: `counts` is Apple's whole catalogue.
    func replaceCounts(
        tokenID: TokenID,
        _ counts: [AssetKey: LicenceCounts],
        recounting: Set<AssetKey>?,
        only: Set<AssetKey>?
    ) async throws
    /// Makes our assignments of `tokenID` equal Apple's list (the full or incremental sync), in batches.
    func mergeAppleAssignments(
        tokenID: TokenID,
        _ records: [AppleAssignmentRecord],
        fullSnapshot: Bool
    ) async throws -> MergeOutcome
    /// Stages one page of Apple's assignment list for the sync `syncID` (a streaming sync writes each page as
    /// it arrives, so memory does not grow with the list).
    func stageAppleAssignments(syncID: UUID, tokenID: TokenID, _ records: [AppleAssignmentRecord]) async throws
    /// Forgets staged pages: one sync's (`syncID`), or every sync's of the token (nil: a dead sync's leftovers).
    func clearStagedAssignments(tokenID: TokenID, syncID: UUID?) async throws
    /// The assets a sync's staged list names (what an incremental sync's delta touches), read before the merge.
    func stagedAssets(syncID: UUID, tokenID: TokenID) async throws -> Set<AssetKey>
    /// Merges a sync's staged list into the ledger, set-based in the database; clears the staged rows.
    func mergeStagedAssignments(syncID: UUID, tokenID: TokenID, fullSnapshot: Bool) async throws -> MergeOutcome
}

extension LedgerRecords {
    /// Reconciles every asset's counts (see ``replaceCounts(tokenID:_:recounting:only:)``).
    public func replaceCounts(tokenID: TokenID, _ counts: [AssetKey: LicenceCounts]) async throws {
        try await replaceCounts(tokenID: tokenID, counts, recounting: nil, only: nil)
    }

    /// Reconciles against Apple's whole catalogue, recounting `recounting` (see
    /// ``replaceCounts(tokenID:_:recounting:only:)``).
    public func replaceCounts(
        tokenID: TokenID,
        _ counts: [AssetKey: LicenceCounts],
        recounting: Set<AssetKey>?
    ) async throws {
        try await replaceCounts(tokenID: tokenID, counts, recounting: recounting, only: nil)
    }

    /// Locks every counts row of the token (see ``lockCounts(tokenID:only:)``).
    public func lockCounts(tokenID: TokenID) async throws {
        try await lockCounts(tokenID: tokenID, only: nil)
    }
}
