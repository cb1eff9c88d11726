import Foundation
import VPPDomain
import VPPUseCases

/// The licence ledger in SQL. Counts live in `token_assets` and change in the same transaction as the
/// assignment rows that justify them: `assigned` is the number of rows holding a licence, `available`
/// is `total - withheld - assigned` (never below zero), `withheld` is what Apple's snapshot neither
/// assigned nor offered (retired licences and the like) plus what Apple counts as assigned but does not list
/// (`unlisted`): so `available` is Apple's `availableCount` less the reservations Apple has not yet seen.
extension SQLTenantTransaction: LedgerRecords {
    func replaceCounts(
        tokenID: TokenID,
        _ counts: [AssetKey: LicenceCounts],
        recounting scope: Set<AssetKey>?,
        only: Set<AssetKey>?
    ) async throws {
        // Apple's snapshot gives the total, what it withholds, and how many it counts as assigned; `assigned` is
        // recounted from our rows (which the merge just made equal to Apple's list, plus what is in flight), so a
        // licence is counted once whether Apple's event finished before or after the snapshot. What Apple counts
        // as assigned beyond the rows it confirmed (a listing that lags its count, or licences vpp cannot see)
        // is `unlisted`, withheld and never offered: `available` is then Apple's `availableCount` less the
        // reservations Apple has not yet seen. The caller holds the counts' locks (`lockCounts`), so no
        // reservation interleaves; rows are updated in place, not replaced.
        // A partial snapshot (Apple's numbers of the assets a delta named) reads, recounts, writes and drops only
        // its own assets, so its cost follows the change, not the catalogue.
        let partial = only.map { $0.union(counts.keys) }
        let ofPartial: SQLQuery = partial.map { "AND adam_id IN (\(list: Set($0.map(\.adamID)).sorted()))" } ?? ""
        let stored = try await exec(
            """
            SELECT adam_id, pricing, total, withheld, assigned, available, retired, unlisted, apple_assigned,
                apple_available
            FROM token_assets WHERE tenant_id = \(tenantID) AND token_id = \(tokenID) \(fragment: ofPartial)
            """
        )
        var before: [AssetKey: StoredTokenAssetCounts] = [:]
        for row in stored {
            guard let key = try? row.assetKey(), partial?.contains(key) != false else { continue }
            before[key] = try StoredTokenAssetCounts(row)
        }
        // An incremental sync recounts only what its delta touched, assets new to the token and assets whose
        // Apple numbers moved (a long list: everything, one scan is cheaper then); the others are unchanged.
        let moved = counts.keys.filter { before[$0]?.hasAppleNumbers(of: counts[$0]!) != true }
        let recount = partial ?? scope.map { $0.union(moved) }.flatMap { $0.count <= 500 ? $0 : nil }
        let onlyThese: SQLQuery = recount.map { "AND adam_id IN (\(list: Set($0.map(\.adamID)).sorted()))" } ?? ""
        let held = try await exec(
            """
            SELECT adam_id, pricing, count(*) AS held,
                sum(CASE WHEN state IN (\(fragment: Self.confirmed)) THEN 1 ELSE 0 END) AS confirmed
            FROM assignments
            WHERE tenant_id = \(tenantID) AND token_id = \(tokenID) AND state IN (\(fragment: Self.holding))
                \(fragment: onlyThese)
            GROUP BY adam_id, pricing
            """
        )
        var heldByKey: [AssetKey: (held: Int, confirmed: Int)] = [:]
        for row in held {
            guard let key = try? row.assetKey() else { continue }
            heldByKey[key] = (try row.decode("held"), try row.decode("confirmed"))
        }
        var inserts: [SQLQuery] = []
        for (key, apple) in counts.sorted(by: { $0.key < $1.key }) {
            if recount?.contains(key) == false { continue }
            let rows = heldByKey[key] ?? (0, 0)
            let unlisted = max(0, apple.assigned - rows.confirmed)
            let withheld = max(0, apple.total - apple.assigned - apple.available) + unlisted
            let available = max(0, apple.total - withheld - rows.held)
            let values = StoredTokenAssetCounts(
                total: apple.total,
                withheld: withheld,
                assigned: rows.held,
                available: available,
                retired: apple.retired,
                unlisted: unlisted,
                appleAssigned: apple.assigned,
                appleAvailable: apple.available
            )
            if let old = before[key] {
                // Unchanged counts are not rewritten.
                guard old != values else { continue }
                try await exec(
                    """
                    UPDATE token_assets SET total = \(apple.total), withheld = \(withheld), assigned = \(rows.held),
                        available = \(available), retired = \(apple.retired), unlisted = \(unlisted),
                        apple_assigned = \(apple.assigned), apple_available = \(apple.available)
                    WHERE tenant_id = \(tenantID) AND token_id = \(tokenID) AND \(fragment: key.matches())
                    """
                )
            } else {
                inserts.append(
                    """
                    (\(tenantID), \(tokenID), \(key.adamID), \(key.pricingParam), \(apple.total), \(withheld),
                    \(rows.held), \(available), \(apple.retired), \(unlisted), \(apple.assigned), \(apple.available))
                    """
                )
            }
        }
        try await insertMany(
            """
            INSERT INTO token_assets
                (tenant_id, token_id, adam_id, pricing, total, withheld, assigned, available, retired, unlisted,
                apple_assigned, apple_available)
            """,
            rows: inserts
        )
        for key in before.keys.sorted() where counts[key] == nil {
            try await exec(
                """
                DELETE FROM token_assets
                WHERE tenant_id = \(tenantID) AND token_id = \(tokenID) AND \(fragment: key.matches())
                """
            )
        }
    }

    static let assignmentColumns =
        """
        assignment_id, token_id, adam_id, pricing, serial, client_user_id, state, event_id, reason, revoke_requested,
        changed_at
        """

    static func holdingList() -> String {
        AssignmentState.Code.holding.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")
    }

    /// The states holding a licence, as SQL literals (fixed by the domain, so the planner sees constants).
    static let holding = SQLQuery(unescaped: holdingList())

    /// The states Apple has confirmed (and lists), as SQL literals.
    static let confirmed = SQLQuery(
        unescaped: AssignmentState.Code.confirmed.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")
    )

    func reserveLicences(_ assignments: [Assignment]) async throws -> Bool {
        guard let first = assignments.first else { return true }
        precondition(
            assignments.allSatisfy {
                $0.asset == first.asset && $0.grantingToken == first.grantingToken
                    && $0.state == .reserved
            },
            "one reservation is of one asset from one token"
        )
        guard try await reserve(first.asset, from: first.grantingToken, count: assignments.count) else { return false }
        do {
            try await insertAssignmentRows(assignments.map { ($0, "vpp") })
        } catch StoreError.constraintViolation(let detail) where detail.contains("one_licence_per") {
            // The partial unique index: someone (maybe another server, a moment ago) licensed one of them.
            let held = try await self.assignments(
                AssignmentQuery(asset: first.asset, states: AssignmentState.Code.holding)
            )
            let holders = Set(held.map(\.assignee))
            throw StoreError.alreadyLicensed(assignments.map(\.assignee).filter(holders.contains).map(\.description))
        }
        return true
    }

    func reserve(_ asset: AssetKey, from tokenID: TokenID, count: Int) async throws -> Bool {
        // One conditional UPDATE: the row lock it takes serialises concurrent reservations (and waits for a
        // sync holding the counts), and the `available >= count` guard makes overselling impossible.
        try await !exec(
            """
            UPDATE token_assets SET available = available - \(count), assigned = assigned + \(count)
            WHERE tenant_id = \(tenantID) AND token_id = \(tokenID) AND \(fragment: asset.matches())
                AND available >= \(count)
            RETURNING available
            """
        ).isEmpty
    }

    func release(_ asset: AssetKey, to tokenID: TokenID, count: Int) async throws {
        try await shiftAssigned(tokenID: tokenID, asset: asset, by: -count)
    }

    /// Moves `assigned` by `delta` and derives `available` from it, in one statement under the row's lock.
    private func shiftAssigned(tokenID: TokenID, asset: AssetKey, by delta: Int) async throws {
        let greatest = dialect.greatest
        try await exec(
            """
            UPDATE token_assets SET assigned = \(unescaped: greatest)(0, assigned + \(delta)),
                available = \(unescaped: greatest)(0, total - withheld - \(unescaped: greatest)(0, assigned + \(delta)))
            WHERE tenant_id = \(tenantID) AND token_id = \(tokenID) AND \(fragment: asset.matches())
            """
        )
    }

    static func stateColumns(_ state: AssignmentState) -> (code: String, eventID: String?, reason: String?) {
        (state.code, state.eventID, state.reason)
    }

    /// Reads a stored state; an unknown code is an error, never a default.
    static func state(code: String, eventID: String?, reason: String?) throws -> AssignmentState {
        guard let known = AssignmentState.Code(rawValue: code) else {
            throw StoreError.unreadable("licence state \(code)")
        }
        do {
            return try AssignmentState(code: known, eventID: eventID, reason: reason)
        } catch {
            throw StoreError.unreadable(error.description)
        }
    }

    func insertAssignments(_ assignments: [Assignment]) async throws {
        // Name the missing app rather than reporting a bare foreign-key violation.
        for key in Set(assignments.map(\.asset)).sorted() where try await app(key) == nil {
            throw StoreError.unknownApp(key)
        }
        try await insertAssignmentRows(assignments.map { ($0, "vpp") })
    }

    private func insertAssignmentRows(_ items: [(Assignment, String)]) async throws {
        let now = clock()
        let rows: [SQLQuery] = items.map { assignment, origin in
            let state = Self.stateColumns(assignment.state)
            var serial: SerialNumber?
            var user: ClientUserID?
            switch assignment.assignee {
            case .device(let s): serial = s
            case .user(let u): user = u
            }
            return """
                (\(tenantID), \(assignment.id), \(assignment.grantingToken), \(assignment.asset.adamID),
                \(assignment.asset.pricingParam), \(serial), \(user), \(state.code), \(state.eventID), \(state.reason),
                \(origin), \(assignment.revokeRequested), \(now))
                """
        }
        try await insertMany(
            """
            INSERT INTO assignments (tenant_id, assignment_id, token_id, adam_id, pricing, serial, client_user_id,
                state, event_id, reason, origin, revoke_requested, changed_at)
            """,
            rows: rows
        )
    }

    /// A row of ``assignmentColumns``; `nil` for an assignee that is no longer a valid serial or user id.
    func assignment(from row: SQLRow) throws -> Assignment? {
        let assignee: Assignee
        if let serial = try row.decode("serial", as: String?.self) {
            guard let valid = try? SerialNumber(serial) else { return nil }
            assignee = .device(valid)
        } else {
            guard let valid = try? ClientUserID(try row.decode("client_user_id", as: String.self)) else { return nil }
            assignee = .user(valid)
        }
        let pricing: String = try row.decode("pricing")
        guard let pricingParam = PricingParam(rawValue: pricing) else {
            throw StoreError.unreadable("pricing \(pricing)")
        }
        return Assignment(
            id: try row.decode("assignment_id"),
            tenantID: tenantID,
            asset: AssetKey(adamID: try row.decode("adam_id"), pricingParam: pricingParam),
            assignee: assignee,
            grantingToken: try row.decode("token_id"),
            state: try Self.state(
                code: try row.decode("state"),
                eventID: try row.decode("event_id"),
                reason: try row.decode("reason")
            ),
            revokeRequested: try row.decode("revoke_requested"),
            changedAt: try row.decode("changed_at", as: Date?.self)
        )
    }

    func assignments(_ query: AssignmentQuery) async throws -> [Assignment] {
        guard var conditions = Self.conditions(query, tenantID: tenantID) else { return [] }
        if let after = query.after { conditions.append("assignment_id > \(after)") }
        let order: SQLQuery
        if let sort = query.sort, let limit = query.limit {
            // Keyset on (column, id): a row value comparison, which both databases read as the ORDER BY below.
            let direction: SQLQuery = sort.descending ? "DESC" : "ASC"
            let comparison: SQLQuery = sort.descending ? "<" : ">"
            if let column = Self.sortColumn(sort.column) {
                if let position = query.position {
                    conditions.append(
                        """
                        (\(fragment: column), assignment_id) \(fragment: comparison) \
                        (\(position.value.sqlValue), \(position.key))
                        """
                    )
                }
                order = """
                    ORDER BY \(fragment: column) \(fragment: direction), assignment_id \(fragment: direction) \
                    LIMIT \(limit)
                    """
            } else {
                if let position = query.position {
                    conditions.append("assignment_id \(fragment: comparison) \(position.key)")
                }
                order = "ORDER BY assignment_id \(fragment: direction) LIMIT \(limit)"
            }
        } else if let limit = query.limit {
            // Keyset paging over the primary key: a deep page costs what the first one does.
            order = "ORDER BY assignment_id LIMIT \(limit)"
        } else {
            order = "ORDER BY adam_id, pricing, serial, client_user_id"
        }
        return try await exec(
            """
            SELECT \(unescaped: Self.assignmentColumns) FROM assignments
            WHERE \(fragment: .joined(conditions, separator: " AND ")) \(fragment: order)
            """
        ).compactMap { try assignment(from: $0) }
    }

    func assignmentCount(_ query: AssignmentQuery) async throws -> Int {
        guard let conditions = Self.conditions(query, tenantID: tenantID) else { return 0 }
        let rows = try await exec(
            "SELECT count(*) AS n FROM assignments WHERE \(fragment: .joined(conditions, separator: " AND "))"
        )
        return Int(try rows.first?.decode("n", as: Int64.self) ?? 0)
    }

    /// The column a licence listing is sorted by before its id; nil for the id alone.
    static func sortColumn(_ column: LicenceSortColumn) -> SQLQuery? {
        switch column {
        case .id: nil
        case .assignee: "coalesce(serial, client_user_id)"
        case .app: "adam_id"
        case .state: "state"
        case .since: "changed_at"
        }
    }

    /// The conditions `query` puts on the assignments table (its paging aside); nil when it can match nothing.
    static func conditions(_ query: AssignmentQuery, tenantID: TenantID) -> [SQLQuery]? {
        var conditions: [SQLQuery] = ["tenant_id = \(tenantID)"]
        if let asset = query.asset { conditions.append(asset.matches()) }
        if let token = query.tokenID { conditions.append("token_id = \(token)") }
        switch query.assignee {
        case .device(let serial): conditions.append("serial = \(serial)")
        case .user(let user): conditions.append("client_user_id = \(user)")
        case nil: break
        }
        if let assignees = query.assignees {
            // Each list is an index lookup list (assignments_by_serial / _by_user lead with tenant and app).
            let serials = assignees.compactMap { if case .device(let s) = $0 { s } else { nil } }
            let users = assignees.compactMap { if case .user(let u) = $0 { u } else { nil } }
            var either: [SQLQuery] = []
            if !serials.isEmpty { either.append("serial IN (\(list: serials))") }
            if !users.isEmpty { either.append("client_user_id IN (\(list: users))") }
            guard !either.isEmpty else { return nil }
            conditions.append("(\(fragment: .joined(either, separator: " OR ")))")
        }
        if let event = query.eventID { conditions.append("event_id = \(event)") }
        if let ids = query.ids {
            guard !ids.isEmpty else { return nil }
            conditions.append("assignment_id IN (\(list: ids))")
        }
        if let states = query.states, !states.isEmpty {
            conditions.append("state IN (\(list: states.map(\.rawValue).sorted()))")
        }
        return conditions
    }

    private func rows(_ ids: [AssignmentID], lock: Bool) async throws -> [Assignment] {
        var found: [Assignment] = []
        for chunk in chunks(ids, of: 500) {
            found += try await exec(
                """
                SELECT \(unescaped: Self.assignmentColumns) FROM assignments
                WHERE tenant_id = \(tenantID) AND assignment_id IN (\(list: chunk))
                ORDER BY assignment_id \(unescaped: lock ? dialect.forUpdate : "")
                """
            ).compactMap { try assignment(from: $0) }
        }
        return found
    }

    func move(_ ids: [AssignmentID], to state: AssignmentState) async throws -> [Assignment] {
        guard !ids.isEmpty else { return [] }
        // Lock the rows, let the domain's state machine decide which may move, then move those and let the
        // counts follow: a row leaving a holding state gives its licence back, one entering takes it.
        let current = try await rows(ids, lock: true)
        var moved: [Assignment] = []
        var delta: [String: (TokenID, AssetKey, Int)] = [:]
        for var row in current {
            let before = row.state.holdsLicence
            guard (try? row.move(to: state)) != nil else { continue }
            if !state.holdsLicence && row.revokeRequested { row.revokeRequested = false }
            moved.append(row)
            let change = (state.holdsLicence ? 1 : 0) - (before ? 1 : 0)
            if change != 0 {
                let key = "\(row.grantingToken)|\(row.asset)"
                delta[key] = (row.grantingToken, row.asset, (delta[key]?.2 ?? 0) + change)
            }
        }
        let columns = Self.stateColumns(state)
        for chunk in chunks(moved.map(\.id), of: 500) {
            try await exec(
                """
                UPDATE assignments
                SET state = \(columns.code), event_id = \(columns.eventID), reason = \(columns.reason),
                    changed_at = \(clock()), lease_owner = NULL, lease_until = NULL,
                    revoke_requested = CASE WHEN \(state.holdsLicence) THEN revoke_requested ELSE \(false) END
                WHERE tenant_id = \(tenantID) AND assignment_id IN (\(list: chunk))
                """
            )
        }
        // Counts in a fixed order, so two transactions never wait on each other's rows in a cycle.
        for (_, (tokenID, asset, change)) in delta.sorted(by: { $0.key < $1.key }) where change != 0 {
            try await shiftAssigned(tokenID: tokenID, asset: asset, by: change)
        }
        return moved
    }

    func requestRevoke(_ ids: [AssignmentID]) async throws {
        for chunk in chunks(ids, of: 500) {
            try await exec(
                """
                UPDATE assignments SET revoke_requested = \(true)
                WHERE tenant_id = \(tenantID) AND assignment_id IN (\(list: chunk))
                """
            )
        }
    }

    func deleteAssignments(_ ids: [AssignmentID]) async throws {
        let doomed = try await rows(ids, lock: true)
        for chunk in chunks(ids, of: 500) {
            try await exec(
                "DELETE FROM assignments WHERE tenant_id = \(tenantID) AND assignment_id IN (\(list: chunk))"
            )
        }
        let held = Dictionary(grouping: doomed.filter(\.state.holdsLicence)) { "\($0.grantingToken)|\($0.asset)" }
        for (_, group) in held.sorted(by: { $0.key < $1.key }) {
            try await shiftAssigned(tokenID: group[0].grantingToken, asset: group[0].asset, by: -group.count)
        }
    }

    func claimIntents(
        tokenID: TokenID,
        asset: AssetKey,
        state: AssignmentState.Code,
        owner: String,
        now: Date,
        until: Date,
        limit: Int
    ) async throws -> [ClaimedIntent] {
        // A licence whose device joined the app's declaration set is revoked only once it has left the set (or
        // the leave was given up): the device removes the app before Apple takes the licence back.
        let declared: SQLQuery =
            state == .revocationQueued
            ? """
            AND NOT EXISTS (
                SELECT 1 FROM declaration_set_changes j
                WHERE j.tenant_id = assignments.tenant_id AND j.assignment_id = assignments.assignment_id
                  AND j.kind = 'join' AND j.state = 'done'
                  AND NOT EXISTS (
                      SELECT 1 FROM declaration_set_changes l
                      WHERE l.tenant_id = j.tenant_id AND l.assignment_id = j.assignment_id AND l.kind = 'leave'
                        AND l.state IN ('done', 'failed')))
            """ : ""
        let due: SQLQuery = """
            SELECT assignment_id FROM assignments
            WHERE tenant_id = \(tenantID) AND token_id = \(tokenID) AND \(fragment: asset.matches())
              AND state = \(state.rawValue) AND (lease_until IS NULL OR lease_until < \(now))
              \(fragment: declared)
            ORDER BY changed_at, assignment_id LIMIT \(limit) \(unescaped: dialect.skipLocked)
            """
        return try await exec(
            """
            UPDATE assignments SET lease_owner = \(owner), lease_until = \(until), send_attempts = send_attempts + 1
            WHERE tenant_id = \(tenantID) AND \(fragment: dialect.member("assignment_id", of: due))
            RETURNING \(unescaped: Self.assignmentColumns), send_attempts
            """
        ).compactMap { row in
            try assignment(from: row).map { ClaimedIntent(assignment: $0, attempts: try row.decode("send_attempts")) }
        }
    }

    func unsentIntents(_ ids: [AssignmentID], now: Date) async throws -> [AssignmentID] {
        var found: [AssignmentID] = []
        for chunk in chunks(ids, of: 500) {
            found += try await exec(
                """
                SELECT assignment_id FROM assignments
                WHERE tenant_id = \(tenantID) AND state = 'reserved' AND send_attempts = 0
                    AND (lease_until IS NULL OR lease_until < \(now)) AND assignment_id IN (\(list: chunk))
                ORDER BY assignment_id \(unescaped: dialect.forUpdate)
                """
            ).map { try $0.decode("assignment_id") }
        }
        return found
    }

    func retryIntents(_ ids: [AssignmentID], at retryAt: Date) async throws {
        for chunk in chunks(ids, of: 500) {
            try await exec(
                """
                UPDATE assignments SET lease_owner = NULL, lease_until = \(retryAt)
                WHERE tenant_id = \(tenantID) AND assignment_id IN (\(list: chunk))
                """
            )
        }
    }

    func lockCounts(tokenID: TokenID, only assets: Set<AssetKey>?) async throws {
        guard !dialect.forUpdate.isEmpty else { return }
        if assets?.isEmpty == true { return }
        // By adam id (both pricings of a named app: a superset, harmless, and one index range per app).
        let onlyThese: SQLQuery = assets.map { "AND adam_id IN (\(list: Set($0.map(\.adamID)).sorted()))" } ?? ""
        // Counted, not returned: the locks are the point, and thousands of rows decoded for nothing cost more
        // than the locking itself (160 ms of a 3.3 s incremental sync of 5,000 apps in a debug build). Always in
        // the same order, so two lockers of overlapping sets wait rather than deadlock.
        try await exec(
            """
            SELECT count(*) AS locked FROM (
                SELECT 1 FROM token_assets WHERE tenant_id = \(tenantID) AND token_id = \(tokenID)
                \(fragment: onlyThese)
                ORDER BY adam_id, pricing FOR UPDATE) AS counts
            """
        )
    }

    /// Above this many staged rows a merge refreshes the staging table's statistics first (a nested loop over a
    /// few hundred rows is cheap; over 20,000 it took minutes).
    static let stagedRowsWorthAnalyzing = 1_000

    /// Whether this sync staged more than `limit` rows (reading no more than `limit + 1` of them).
    func stagedRows(syncID: UUID, tokenID: TokenID, moreThan limit: Int) async throws -> Bool {
        let rows = try await exec(
            """
            SELECT count(*) AS n FROM (
                SELECT 1 FROM sync_staging
                WHERE tenant_id = \(tenantID) AND sync_id = \(syncID) AND token_id = \(tokenID) LIMIT \(limit + 1)
            ) AS staged
            """
        )
        return try rows.first?.decode("n", as: Int64.self) ?? 0 > Int64(limit)
    }

    func stagedAssets(syncID: UUID, tokenID: TokenID) async throws -> Set<AssetKey> {
        Set(
            try await exec(
                """
                SELECT DISTINCT adam_id, pricing FROM sync_staging
                WHERE tenant_id = \(tenantID) AND sync_id = \(syncID) AND token_id = \(tokenID)
                """
            ).map { try $0.assetKey() }
        )
    }

    func mergeAppleAssignments(
        tokenID: TokenID,
        _ records: [AppleAssignmentRecord],
        fullSnapshot: Bool
    ) async throws
        -> MergeOutcome
    {
        // One merge, set-based in the database: stage the list, merge it, forget it.
        let syncID = UUID()
        try await stageAppleAssignments(syncID: syncID, tokenID: tokenID, records)
        return try await mergeStagedAssignments(syncID: syncID, tokenID: tokenID, fullSnapshot: fullSnapshot)
    }

    func stageAppleAssignments(syncID: UUID, tokenID: TokenID, _ records: [AppleAssignmentRecord]) async throws {
        let rows: [SQLQuery] = records.map { record in
            var serial: String?
            var user: String?
            let assignee: String
            switch record.assignee {
            case .serialNumber(let s):
                serial = s
                assignee = s
            case .clientUserID(let u):
                user = u
                assignee = "user:" + u
            }
            return """
                (\(tenantID), \(syncID), \(tokenID), \(UUID()), \(record.asset.adamID), \(record.asset.pricingParam),
                \(assignee), \(serial), \(user))
                """
        }
        // Apple may list an assignment twice (pages shifting under a walk): the key keeps one.
        try await insertMany(
            """
            INSERT INTO sync_staging (tenant_id, sync_id, token_id, row_id, adam_id, pricing, assignee, serial,
                client_user_id)
            """,
            rows: rows,
            suffix: "ON CONFLICT DO NOTHING"
        )
    }

    func clearStagedAssignments(tokenID: TokenID, syncID: UUID?) async throws {
        let which: SQLQuery = if let syncID { "sync_id = \(syncID)" } else { "token_id = \(tokenID)" }
        try await exec("DELETE FROM sync_staging WHERE tenant_id = \(tenantID) AND \(fragment: which)")
    }

    /// The join of one of our rows (`a`) with a staged row (`s`) of the same app and assignee.
    private static let sameAssignment: SQLQuery = """
        s.tenant_id = a.tenant_id AND s.adam_id = a.adam_id AND s.pricing = a.pricing
        AND s.assignee = COALESCE(a.serial, 'user:' || a.client_user_id)
        """

    func mergeStagedAssignments(syncID: UUID, tokenID: TokenID, fullSnapshot: Bool) async throws -> MergeOutcome {
        // Set-based: Apple's list never passes through memory, however long it is. Our rows still move through
        // the state machine (`move`), so counts and outbox rules apply to what a sync learns exactly as to
        // what an event or a notification says.
        // The staged pages were written since the table's last statistics: without fresh ones, a first sync on a
        // new database was planned as a nested loop over "empty" tables (86–101 s for 20,000 assignments). Only a
        // large load is worth it: ANALYZE holds its lock on the shared staging table to the end of this
        // transaction, so every other tenant's merge waited behind it (10,000 tenants' due syncs were serialised).
        if dialect.analyzesBulkLoads,
            try await stagedRows(syncID: syncID, tokenID: tokenID, moreThan: Self.stagedRowsWorthAnalyzing)
        {
            try await exec("ANALYZE sync_staging")
        }
        // 1. Our rows Apple turns out to hold: reserved, pending, failed or revoked become active, one per
        //    assignee (a holding row wins over older failed or revoked ones).
        let candidates = try await exec(
            """
            SELECT a.assignment_id, a.adam_id, a.pricing, COALESCE(a.serial, 'user:' || a.client_user_id) AS assignee,
                a.state, a.changed_at
            FROM assignments a JOIN sync_staging s ON s.sync_id = \(syncID) AND \(fragment: Self.sameAssignment)
            WHERE a.tenant_id = \(tenantID) AND a.token_id = \(tokenID) AND a.state <> 'active' AND NOT EXISTS (
                SELECT 1 FROM assignments h
                WHERE h.tenant_id = a.tenant_id AND h.adam_id = a.adam_id AND h.pricing = a.pricing
                AND h.assignment_id <> a.assignment_id AND h.state IN (\(fragment: Self.holding))
                AND ((a.serial IS NOT NULL AND h.serial = a.serial)
                    OR (a.client_user_id IS NOT NULL AND h.client_user_id = a.client_user_id))
                AND a.state IN ('failed', 'revoked'))
            """
        )
        var best: [String: (id: UUID, rank: Int, changed: Int)] = [:]
        var heldElsewhere = Set<String>()
        for row in candidates {
            let key = try ["adam_id", "pricing", "assignee"].map { try row.decode($0, as: String.self) }
                .joined(separator: "|")
            let state = AssignmentState.Code(rawValue: try row.decode("state"))
            let rank: Int
            switch state {
            case .reserved?, .pending?: rank = 2
            case .failed?, .revoked?: rank = 1
            default:
                heldElsewhere.insert(key)
                continue  // a revoke is queued or on its way: leave it
            }
            let changed: Int = try row.decode("changed_at")
            if let current = best[key], (current.rank, current.changed) >= (rank, changed) { continue }
            best[key] = (try row.decode("assignment_id"), rank, changed)
        }
        let confirmable = best.filter { !heldElsewhere.contains($0.key) }.map { AssignmentID($0.value.id) }
        var outcome = MergeOutcome(confirmed: try await move(confirmable, to: .active))
        // 2. Apple's assignments we have no row for, inserted in one statement. A device that holds the app
        //    through another token keeps its one row (the unique index; ON CONFLICT).
        let now = clock()
        // Probed by serial or by user id separately, so each probe is an index lookup on both databases.
        for column in ["serial", "client_user_id"] {
            let missing: SQLQuery = """
                FROM sync_staging s
                WHERE s.tenant_id = \(tenantID) AND s.sync_id = \(syncID) AND s.\(unescaped: column) IS NOT NULL
                AND NOT EXISTS (
                    SELECT 1 FROM assignments a WHERE a.tenant_id = s.tenant_id AND a.adam_id = s.adam_id
                    AND a.pricing = s.pricing AND a.\(unescaped: column) = s.\(unescaped: column)
                    AND a.token_id = s.token_id)
                """
            outcome.inserted +=
                try await exec("SELECT count(*) AS missing \(fragment: missing)").first?.decode("missing") ?? 0
            // No anti-join here: an INSERT … SELECT that probes the table it fills was planned on the statistics
            // of an empty table (a nested loop whose inner scan grows with every row inserted). After step 1 an
            // assignee of this token that Apple lists holds a row already, so the unique index skips it.
            try await exec(
                """
                INSERT INTO assignments (tenant_id, assignment_id, token_id, adam_id, pricing, serial, client_user_id,
                    state, event_id, reason, origin, revoke_requested, changed_at)
                SELECT s.tenant_id, s.row_id, s.token_id, s.adam_id, s.pricing, s.serial, s.client_user_id, 'active',
                    NULL, NULL, 'apple', \(false), \(now)
                FROM sync_staging s
                WHERE s.tenant_id = \(tenantID) AND s.sync_id = \(syncID) AND s.\(unescaped: column) IS NOT NULL
                ON CONFLICT DO NOTHING
                """
            )
        }
        // 3. A full snapshot: what Apple no longer lists is gone; queued or sent revokes are done.
        if fullSnapshot {
            let gone = try await exec(
                """
                SELECT a.assignment_id, a.state FROM assignments a
                WHERE a.tenant_id = \(tenantID) AND a.token_id = \(tokenID)
                AND a.state IN ('active', 'revocation-queued', 'revoking') AND NOT EXISTS (
                    SELECT 1 FROM sync_staging s WHERE s.sync_id = \(syncID) AND \(fragment: Self.sameAssignment))
                """
            )
            var revokedIDs: [AssignmentID] = []
            var goneIDs: [AssignmentID] = []
            for row in gone {
                let id: AssignmentID = try row.decode("assignment_id")
                if try row.decode("state", as: String.self) == "active" {
                    goneIDs.append(id)
                } else {
                    revokedIDs.append(id)
                }
            }
            outcome.revoked = try await move(revokedIDs, to: .revoked)
            // Deleted by id, from the list just read: the same anti-join as a DELETE … IN (subquery) ran for
            // minutes at 1,000,000 assignments (planned on statistics from before the sync's inserts) even
            // when nothing was gone. `state = 'active'` still guards against a row that moved meanwhile.
            for chunk in chunks(goneIDs, of: 500) {
                try await exec(
                    """
                    DELETE FROM assignments
                    WHERE tenant_id = \(tenantID) AND assignment_id IN (\(list: chunk)) AND state = 'active'
                    """
                )
            }
            outcome.deleted = goneIDs.count
        } else {
            // 4. What the delta touched, so the counts' recount follows the change, not the token's size.
            var touched = Set(outcome.confirmed.map(\.asset))
            let staged = try await exec(
                """
                SELECT DISTINCT adam_id, pricing FROM sync_staging WHERE tenant_id = \(tenantID) AND sync_id = \(syncID)
                """
            )
            for row in staged {
                touched.insert(try row.assetKey())
            }
            outcome.touched = touched
        }
        try await clearStagedAssignments(tokenID: tokenID, syncID: syncID)
        return outcome
    }

    func activeLicencesOfRetired() async throws -> [Assignment] {
        // One statement: the database filters the tenant's active rows by the retired devices and users it
        // holds, so neither the inventory nor the ledger comes back to the server.
        try await exec(
            """
            SELECT \(unescaped: Self.assignmentColumns) FROM assignments a
            WHERE a.tenant_id = \(tenantID) AND a.state = \(AssignmentState.Code.active.rawValue)
                AND (a.serial IN (SELECT serial FROM devices WHERE tenant_id = \(tenantID) AND retired = \(true))
                    OR a.client_user_id IN (SELECT client_user_id FROM managed_users
                        WHERE tenant_id = \(tenantID) AND status = \(ManagedUserStatus.retired.rawValue)))
                AND EXISTS (SELECT 1 FROM apps p WHERE p.tenant_id = a.tenant_id AND p.adam_id = a.adam_id
                    AND p.pricing = a.pricing AND p.revocable = \(true))
            ORDER BY a.assignment_id
            """
        ).compactMap(assignment(from:))
    }

    func activeLicences(serials: [SerialNumber]) async throws -> [Assignment] {
        // Migration 0009's (tenant_id, serial, state) index on assignments (partial on `serial IS NOT NULL`, which
        // `serial IN (…)` implies: both databases search it on the whole key).
        try await lookupChunks(serials) { chunk in
            try await exec(
                """
                SELECT \(unescaped: Self.assignmentColumns) FROM assignments
                WHERE tenant_id = \(tenantID) AND serial IN (\(list: chunk))
                    AND state = \(AssignmentState.Code.active.rawValue)
                """
            ).compactMap(assignment(from:))
        }.sorted { $0.id < $1.id }
    }
}
