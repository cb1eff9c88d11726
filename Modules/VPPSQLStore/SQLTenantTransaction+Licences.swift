import Foundation
import VPPDomain
import VPPUseCases

/// The licence ledger in SQL. Counts live in `token_assets` and change in the same transaction as the
/// assignment rows that justify them: `assigned` is the number of rows holding a licence, `available`
/// is `total - withheld - assigned` (never below zero), `withheld` is what Apple's snapshot neither
/// assigned nor offered (retired licences and the like).
extension SQLTenantTransaction {
    static let assignmentColumns =
        "assignment_id, token_id, adam_id, pricing, serial, client_user_id, state, event_id, reason, revoke_requested"

    static func holdingList() -> String {
        AssignmentState.Code.holding.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")
    }

    func reserveLicences(_ assignments: [Assignment]) async throws -> Bool {
        guard let first = assignments.first else { return true }
        precondition(assignments.allSatisfy { $0.asset == first.asset && $0.grantingToken == first.grantingToken
                         && $0.state == .reserved },
                     "one reservation is of one asset from one token")
        guard try await reserve(first.asset, from: first.grantingToken, count: assignments.count) else { return false }
        do {
            try await insertAssignmentRows(assignments.map { ($0, "vpp") })
        } catch StoreError.constraintViolation(let detail) where detail.contains("one_licence_per") {
            // The partial unique index: someone (maybe another server, a moment ago) licensed one of them.
            let held = try await self.assignments(AssignmentQuery(asset: first.asset, states: AssignmentState.Code.holding))
            let holders = Set(held.map(\.assignee))
            throw StoreError.alreadyLicensed(assignments.map(\.assignee).filter(holders.contains).map(\.description))
        }
        return true
    }

    func reserve(_ asset: AssetKey, from tokenID: TokenID, count: Int) async throws -> Bool {
        // One conditional UPDATE: the row lock it takes serialises concurrent reservations (and waits for a
        // sync holding the counts), and the `available >= ?` guard makes overselling impossible.
        try await !exec(
            """
            UPDATE token_assets SET available = available - ?, assigned = assigned + ?
            WHERE tenant_id = ? AND token_id = ? AND adam_id = ? AND pricing = ? AND available >= ?
            RETURNING available
            """,
            [.int(Int64(count)), .int(Int64(count)), tenant, .uuid(tokenID.rawValue), .text(asset.adamID),
             .text(asset.pricingParam.rawValue), .int(Int64(count))]).isEmpty
    }

    func release(_ asset: AssetKey, to tokenID: TokenID, count: Int) async throws {
        try await shiftAssigned(tokenID: tokenID, asset: asset, by: -count)
    }

    /// Moves `assigned` by `delta` and derives `available` from it, in one statement under the row's lock.
    private func shiftAssigned(tokenID: TokenID, asset: AssetKey, by delta: Int) async throws {
        let greatest = dialect.greatest
        try await exec(
            """
            UPDATE token_assets SET assigned = \(greatest)(0, assigned + ?),
                available = \(greatest)(0, total - withheld - \(greatest)(0, assigned + ?))
            WHERE tenant_id = ? AND token_id = ? AND adam_id = ? AND pricing = ?
            """,
            [.int(Int64(delta)), .int(Int64(delta)), tenant, .uuid(tokenID.rawValue), .text(asset.adamID),
             .text(asset.pricingParam.rawValue)])
    }

    static func stateColumns(_ state: AssignmentState) -> (code: String, eventID: String?, reason: String?) {
        (state.code, state.eventID, state.reason)
    }

    /// Reads a stored state; an unknown code is an error, never a default.
    static func state(code: String, eventID: String?, reason: String?) throws -> AssignmentState {
        guard let known = AssignmentState.Code(rawValue: code) else { throw StoreError.unreadable("licence state \(code)") }
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
        let now = SQLValue.time(clock())
        let rows: [[SQLValue]] = items.map { assignment, origin in
            let state = Self.stateColumns(assignment.state)
            var serial = SQLValue.null, user = SQLValue.null
            switch assignment.assignee {
            case .device(let s): serial = .text(s.value)
            case .user(let u): user = .text(u.value)
            }
            return [tenant, .uuid(assignment.id.rawValue), .uuid(assignment.grantingToken.rawValue),
                    .text(assignment.asset.adamID), .text(assignment.asset.pricingParam.rawValue), serial, user,
                    .text(state.code), .optional(state.eventID), .optional(state.reason), .text(origin),
                    .bool(assignment.revokeRequested), now]
        }
        try await insertMany(
            """
            INSERT INTO assignments (tenant_id, assignment_id, token_id, adam_id, pricing, serial, client_user_id, state,
                event_id, reason, origin, revoke_requested, changed_at)
            """,
            columns: 13, rows: rows)
    }

    func assignment(from row: SQLRow, offset: Int = 0) throws -> Assignment? {
        let assignee: Assignee
        if let serial = try row.optionalText(offset + 4) {
            guard let valid = try? SerialNumber(serial) else { return nil }
            assignee = .device(valid)
        } else {
            guard let valid = try? ClientUserID(try row.text(offset + 5)) else { return nil }
            assignee = .user(valid)
        }
        guard let pricing = PricingParam(rawValue: try row.text(offset + 3)) else {
            throw StoreError.unreadable("pricing \(try row.text(offset + 3))")
        }
        return Assignment(
            id: AssignmentID(try row.uuid(offset)), tenantID: tenantID,
            asset: AssetKey(adamID: try row.text(offset + 2), pricingParam: pricing),
            assignee: assignee, grantingToken: TokenID(try row.uuid(offset + 1)),
            state: try Self.state(code: try row.text(offset + 6), eventID: try row.optionalText(offset + 7),
                                  reason: try row.optionalText(offset + 8)),
            revokeRequested: try row.bool(offset + 9))
    }

    func assignments(_ query: AssignmentQuery) async throws -> [Assignment] {
        var sql = "SELECT \(Self.assignmentColumns) FROM assignments WHERE tenant_id = ?"
        var binds = [tenant]
        if let asset = query.asset {
            sql += " AND adam_id = ? AND pricing = ?"
            binds += [.text(asset.adamID), .text(asset.pricingParam.rawValue)]
        }
        if let token = query.tokenID { sql += " AND token_id = ?"; binds.append(.uuid(token.rawValue)) }
        switch query.assignee {
        case .device(let serial): sql += " AND serial = ?"; binds.append(.text(serial.value))
        case .user(let user): sql += " AND client_user_id = ?"; binds.append(.text(user.value))
        case nil: break
        }
        if let event = query.eventID { sql += " AND event_id = ?"; binds.append(.text(event)) }
        if let ids = query.ids {
            guard !ids.isEmpty else { return [] }
            sql += " AND assignment_id IN (" + Array(repeating: "?", count: ids.count).joined(separator: ",") + ")"
            binds += ids.map { .uuid($0.rawValue) }
        }
        if let states = query.states, !states.isEmpty {
            sql += " AND state IN (" + Array(repeating: "?", count: states.count).joined(separator: ",") + ")"
            binds += states.map(\.rawValue).sorted().map(SQLValue.text)
        }
        return try await exec(sql + " ORDER BY adam_id, pricing, serial, client_user_id", binds).compactMap {
            try assignment(from: $0)
        }
    }

    private func rows(_ ids: [AssignmentID], lock: Bool) async throws -> [Assignment] {
        var found: [Assignment] = []
        for chunk in chunks(ids, of: 500) {
            found += try await exec(
                "SELECT \(Self.assignmentColumns) FROM assignments WHERE tenant_id = ? AND assignment_id IN ("
                    + Array(repeating: "?", count: chunk.count).joined(separator: ",") + ") ORDER BY assignment_id "
                    + (lock ? dialect.forUpdate : ""),
                [tenant] + chunk.map { .uuid($0.rawValue) }
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
                UPDATE assignments SET state = ?, event_id = ?, reason = ?, changed_at = ?, lease_owner = NULL,
                    lease_until = NULL, revoke_requested = CASE WHEN ? THEN revoke_requested ELSE ? END
                WHERE tenant_id = ? AND assignment_id IN (
                """ + Array(repeating: "?", count: chunk.count).joined(separator: ",") + ")",
                [.text(columns.code), .optional(columns.eventID), .optional(columns.reason), .time(clock()),
                 .bool(state.holdsLicence), .bool(false), tenant] + chunk.map { .uuid($0.rawValue) })
        }
        // Counts in a fixed order, so two transactions never wait on each other's rows in a cycle.
        for (_, (tokenID, asset, change)) in delta.sorted(by: { $0.key < $1.key }) where change != 0 {
            try await shiftAssigned(tokenID: tokenID, asset: asset, by: change)
        }
        return moved
    }

    func requestRevoke(_ ids: [AssignmentID]) async throws {
        for chunk in chunks(ids, of: 500) {
            try await exec("UPDATE assignments SET revoke_requested = ? WHERE tenant_id = ? AND assignment_id IN ("
                               + Array(repeating: "?", count: chunk.count).joined(separator: ",") + ")",
                           [.bool(true), tenant] + chunk.map { .uuid($0.rawValue) })
        }
    }

    func deleteAssignments(_ ids: [AssignmentID]) async throws {
        let doomed = try await rows(ids, lock: true)
        for chunk in chunks(ids, of: 500) {
            try await exec("DELETE FROM assignments WHERE tenant_id = ? AND assignment_id IN ("
                               + Array(repeating: "?", count: chunk.count).joined(separator: ",") + ")",
                           [tenant] + chunk.map { .uuid($0.rawValue) })
        }
        let held = Dictionary(grouping: doomed.filter(\.state.holdsLicence)) { "\($0.grantingToken)|\($0.asset)" }
        for (_, group) in held.sorted(by: { $0.key < $1.key }) {
            try await shiftAssigned(tokenID: group[0].grantingToken, asset: group[0].asset, by: -group.count)
        }
    }

    func claimIntents(tokenID: TokenID, asset: AssetKey, state: AssignmentState.Code, owner: String, now: Date,
                      until: Date, limit: Int) async throws -> [ClaimedIntent] {
        try await exec(
            """
            UPDATE assignments SET lease_owner = ?, lease_until = ?, send_attempts = send_attempts + 1
            WHERE tenant_id = ? AND assignment_id IN (
                SELECT assignment_id FROM assignments
                WHERE tenant_id = ? AND token_id = ? AND adam_id = ? AND pricing = ? AND state = ?
                  AND (lease_until IS NULL OR lease_until < ?)
                ORDER BY changed_at, assignment_id LIMIT ? \(dialect.skipLocked))
            RETURNING \(Self.assignmentColumns), send_attempts
            """,
            [.text(owner), .time(until), tenant, tenant, .uuid(tokenID.rawValue), .text(asset.adamID),
             .text(asset.pricingParam.rawValue), .text(state.rawValue), .time(now), .int(Int64(limit))]
        ).compactMap { row in
            try assignment(from: row).map { ClaimedIntent(assignment: $0, attempts: try row.int(10)) }
        }
    }

    func unsentIntents(_ ids: [AssignmentID], now: Date) async throws -> [AssignmentID] {
        var found: [AssignmentID] = []
        for chunk in chunks(ids, of: 500) {
            found += try await exec(
                "SELECT assignment_id FROM assignments WHERE tenant_id = ? AND state = 'reserved' AND send_attempts = 0 "
                    + "AND (lease_until IS NULL OR lease_until < ?) AND assignment_id IN ("
                    + Array(repeating: "?", count: chunk.count).joined(separator: ",") + ") ORDER BY assignment_id "
                    + dialect.forUpdate,
                [tenant, .time(now)] + chunk.map { .uuid($0.rawValue) }
            ).map { AssignmentID(try $0.uuid(0)) }
        }
        return found
    }

    func retryIntents(_ ids: [AssignmentID], at retryAt: Date) async throws {
        for chunk in chunks(ids, of: 500) {
            try await exec("UPDATE assignments SET lease_owner = NULL, lease_until = ? WHERE tenant_id = ? AND assignment_id IN ("
                               + Array(repeating: "?", count: chunk.count).joined(separator: ",") + ")",
                           [.time(retryAt), tenant] + chunk.map { .uuid($0.rawValue) })
        }
    }

    func lockCounts(tokenID: TokenID) async throws {
        guard !dialect.forUpdate.isEmpty else { return }
        try await exec("SELECT adam_id FROM token_assets WHERE tenant_id = ? AND token_id = ? ORDER BY adam_id, pricing FOR UPDATE",
                       [tenant, .uuid(tokenID.rawValue)])
    }

    func mergeAppleAssignments(tokenID: TokenID, _ records: [AppleAssignmentRecord], fullSnapshot: Bool) async throws
        -> MergeOutcome {
        // Diff in memory by (asset, assignee): one read of our rows, then batched inserts and moves, never one
        // round trip per row. Our rows move through the state machine (`move`), so counts and the outbox
        // rules apply to what a sync learns exactly as to what an event or a notification says.
        func key(_ adamID: String, _ pricing: String, _ serial: String?, _ user: String?) -> String {
            "\(adamID)|\(pricing)|\(serial ?? "")|\(user ?? "")"
        }
        let ours = try await exec(
            "SELECT assignment_id, adam_id, pricing, serial, client_user_id, state FROM assignments WHERE tenant_id = ? AND token_id = ?",
            [tenant, .uuid(tokenID.rawValue)])
        var existing: [String: (id: UUID, state: String)] = [:]
        existing.reserveCapacity(ours.count)
        for row in ours {
            let k = key(try row.text(1), try row.text(2), try row.optionalText(3), try row.optionalText(4))
            let state = try row.text(5)
            // Several rows may share a key (a licence revoked, then granted again): the holding one counts.
            if let known = existing[k], AssignmentState.Code(rawValue: known.state)?.holdsLicence == true { continue }
            existing[k] = (try row.uuid(0), state)
        }
        var seen = Set<String>()
        seen.reserveCapacity(records.count)
        var batch: [[SQLValue]] = []
        var inserted = 0
        var toConfirm: [AssignmentID] = []
        let now = SQLValue.time(clock())
        let prefix = """
            INSERT INTO assignments (tenant_id, assignment_id, token_id, adam_id, pricing, serial, client_user_id, state,
                event_id, reason, origin, revoke_requested, changed_at)
            """
        func flush() async throws {
            // A device that holds the app through another token already keeps its one row (the unique index).
            try await insertMany(prefix, columns: 13, rows: batch, suffix: "ON CONFLICT DO NOTHING")
            inserted += batch.count
            batch.removeAll(keepingCapacity: true)
        }
        for record in records {
            var serial: String?, user: String?
            switch record.assignee {
            case .serialNumber(let s): serial = s
            case .clientUserID(let u): user = u
            }
            let k = key(record.asset.adamID, record.asset.pricingParam.rawValue, serial, user)
            guard seen.insert(k).inserted else { continue }
            if let row = existing[k] {
                if row.state != AssignmentState.Code.active.rawValue { toConfirm.append(AssignmentID(row.id)) }
                continue
            }
            batch.append([tenant, .uuid(UUID()), .uuid(tokenID.rawValue), .text(record.asset.adamID),
                          .text(record.asset.pricingParam.rawValue), .optional(serial), .optional(user),
                          .text(AssignmentState.Code.active.rawValue), .null, .null, .text("apple"), .bool(false), now])
            if batch.count == 1000 { try await flush() }
        }
        try await flush()
        // Apple holds these: reserved, pending, failed or revoked rows become active. Rows whose revoke is
        // queued or on its way stay as they are (Apple's list may predate the revoke).
        let confirmable: Set<AssignmentState.Code> = [.reserved, .pending, .failed, .revoked]
        let candidates = try await rows(toConfirm, lock: true).filter { confirmable.contains($0.state.stateCode) }
        let confirmed = try await move(candidates.map(\.id), to: .active)
        var outcome = MergeOutcome(inserted: inserted, confirmed: confirmed)
        if fullSnapshot {
            var gone: [AssignmentID] = []
            var revokedIDs: [AssignmentID] = []
            for (k, row) in existing where !seen.contains(k) {
                switch AssignmentState.Code(rawValue: row.state) {
                case .active: gone.append(AssignmentID(row.id))
                case .revocationQueued, .revoking: revokedIDs.append(AssignmentID(row.id))
                default: break
                }
            }
            outcome.revoked = try await move(revokedIDs, to: .revoked)
            try await deleteAssignments(gone)
            outcome.deleted = gone.count
        }
        return outcome
    }

    func chunks<T>(_ items: [T], of size: Int) -> [[T]] {
        stride(from: 0, to: items.count, by: size).map { Array(items[$0..<min($0 + size, items.count)]) }
    }
}
