import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction {
    func reserve(_ asset: AssetKey, from tokenID: TokenID, count: Int) async throws -> Bool {
        // One conditional UPDATE: the row lock it takes serialises concurrent reservations, and the
        // `available >= ?` guard makes overselling impossible whatever the interleaving.
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
        try await exec(
            """
            UPDATE token_assets SET available = available + ?, assigned = CASE WHEN assigned >= ? THEN assigned - ? ELSE 0 END
            WHERE tenant_id = ? AND token_id = ? AND adam_id = ? AND pricing = ?
            """,
            [.int(Int64(count)), .int(Int64(count)), .int(Int64(count)), tenant, .uuid(tokenID.rawValue), .text(asset.adamID),
             .text(asset.pricingParam.rawValue)])
    }

    static func stateColumns(_ state: AssignmentState) -> (code: String, eventID: String?, reason: String?) {
        switch state {
        case .reserved: ("reserved", nil, nil)
        case .pending(let event): ("pending", event, nil)
        case .active: ("active", nil, nil)
        case .failed(let reason): ("failed", nil, reason)
        case .revoking(let event): ("revoking", event, nil)
        case .revoked: ("revoked", nil, nil)
        }
    }

    static func state(code: String, eventID: String?, reason: String?) -> AssignmentState {
        switch code {
        case "pending": .pending(eventID: eventID ?? "")
        case "active": .active
        case "failed": .failed(reason: reason ?? "")
        case "revoking": .revoking(eventID: eventID ?? "")
        case "revoked": .revoked
        default: .reserved
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
        let rows: [[SQLValue]] = items.map { assignment, origin in
            let state = Self.stateColumns(assignment.state)
            var serial = SQLValue.null, user = SQLValue.null
            switch assignment.assignee {
            case .device(let s): serial = .text(s.value)
            case .user(let u): user = .text(u.value)
            }
            return [tenant, .uuid(assignment.id.rawValue), .uuid(assignment.grantingToken.rawValue), .text(assignment.asset.adamID),
                    .text(assignment.asset.pricingParam.rawValue), serial, user, .text(state.code), .optional(state.eventID),
                    .optional(state.reason), .text(origin)]
        }
        try await insertMany(
            "INSERT INTO assignments (tenant_id, assignment_id, token_id, adam_id, pricing, serial, client_user_id, state, event_id, reason, origin)",
            columns: 11, rows: rows)
    }

    func assignments(_ query: AssignmentQuery) async throws -> [Assignment] {
        var sql = "SELECT assignment_id, token_id, adam_id, pricing, serial, client_user_id, state, event_id, reason FROM assignments WHERE tenant_id = ?"
        var binds = [tenant]
        if let asset = query.asset { sql += " AND adam_id = ? AND pricing = ?"; binds += [.text(asset.adamID), .text(asset.pricingParam.rawValue)] }
        if let token = query.tokenID { sql += " AND token_id = ?"; binds.append(.uuid(token.rawValue)) }
        switch query.assignee {
        case .device(let serial): sql += " AND serial = ?"; binds.append(.text(serial.value))
        case .user(let user): sql += " AND client_user_id = ?"; binds.append(.text(user.value))
        case nil: break
        }
        if let event = query.eventID { sql += " AND event_id = ?"; binds.append(.text(event)) }
        if let states = query.states, !states.isEmpty {
            sql += " AND state IN (" + Array(repeating: "?", count: states.count).joined(separator: ",") + ")"
            binds += states.sorted().map(SQLValue.text)
        }
        return try await exec(sql + " ORDER BY adam_id, pricing, serial, client_user_id", binds).compactMap { row in
            let assignee: Assignee
            if let serial = try row.optionalText(4) {
                guard let valid = try? SerialNumber(serial) else { return nil }
                assignee = .device(valid)
            } else {
                guard let valid = try? ClientUserID(try row.text(5)) else { return nil }
                assignee = .user(valid)
            }
            return Assignment(
                id: AssignmentID(try row.uuid(0)), tenantID: tenantID,
                asset: AssetKey(adamID: try row.text(2), pricingParam: PricingParam(rawValue: try row.text(3)) ?? .standard),
                assignee: assignee, grantingToken: TokenID(try row.uuid(1)),
                state: Self.state(code: try row.text(6), eventID: try row.optionalText(7), reason: try row.optionalText(8)))
        }
    }

    func setState(_ state: AssignmentState, of ids: [AssignmentID]) async throws {
        let columns = Self.stateColumns(state)
        for chunk in chunks(ids, of: 500) {
            try await exec(
                "UPDATE assignments SET state = ?, event_id = ?, reason = ? WHERE tenant_id = ? AND assignment_id IN ("
                    + Array(repeating: "?", count: chunk.count).joined(separator: ",") + ")",
                [.text(columns.code), .optional(columns.eventID), .optional(columns.reason), tenant] + chunk.map { .uuid($0.rawValue) })
        }
    }

    func deleteAssignments(_ ids: [AssignmentID]) async throws {
        for chunk in chunks(ids, of: 500) {
            try await exec("DELETE FROM assignments WHERE tenant_id = ? AND assignment_id IN ("
                               + Array(repeating: "?", count: chunk.count).joined(separator: ",") + ")",
                           [tenant] + chunk.map { .uuid($0.rawValue) })
        }
    }

    func mergeAppleAssignments(tokenID: TokenID, _ records: [AppleAssignmentRecord], fullSnapshot: Bool) async throws -> (inserted: Int, deleted: Int) {
        // Diff in memory by (asset, assignee): one read of our rows, then batched inserts and deletes,
        // never one round trip per row.
        func key(_ adamID: String, _ pricing: String, _ serial: String?, _ user: String?) -> String {
            "\(adamID)|\(pricing)|\(serial ?? "")|\(user ?? "")"
        }
        let ours = try await exec(
            "SELECT assignment_id, adam_id, pricing, serial, client_user_id, state FROM assignments WHERE tenant_id = ? AND token_id = ?",
            [tenant, .uuid(tokenID.rawValue)])
        var existing: [String: (id: UUID, state: String)] = [:]
        existing.reserveCapacity(ours.count)
        for row in ours {
            existing[key(try row.text(1), try row.text(2), try row.optionalText(3), try row.optionalText(4))] = (try row.uuid(0), try row.text(5))
        }
        var seen = Set<String>()
        seen.reserveCapacity(records.count)
        // Rows are built and flushed a batch at a time, so memory stays flat however large the sync.
        var batch: [[SQLValue]] = []
        var inserted = 0
        var confirmed: [UUID] = []
        let insertPrefix = "INSERT INTO assignments (tenant_id, assignment_id, token_id, adam_id, pricing, serial, client_user_id, state, event_id, reason, origin)"
        for record in records {
            var serial: String?, user: String?
            switch record.assignee {
            case .serialNumber(let s): serial = s
            case .clientUserID(let u): user = u
            }
            let k = key(record.asset.adamID, record.asset.pricingParam.rawValue, serial, user)
            guard seen.insert(k).inserted else { continue }
            if let row = existing[k] {
                if row.state == "pending" || row.state == "reserved" || row.state == "failed" || row.state == "revoked" { confirmed.append(row.id) }
                continue
            }
            batch.append([tenant, .uuid(UUID()), .uuid(tokenID.rawValue), .text(record.asset.adamID), .text(record.asset.pricingParam.rawValue),
                          .optional(serial), .optional(user), .text("active"), .null, .null, .text("apple")])
            if batch.count == 1000 {
                try await insertMany(insertPrefix, columns: 11, rows: batch)
                inserted += batch.count
                batch.removeAll(keepingCapacity: true)
            }
        }
        try await insertMany(insertPrefix, columns: 11, rows: batch)
        inserted += batch.count
        for chunk in chunks(confirmed, of: 500) {
            try await exec("UPDATE assignments SET state = 'active', reason = NULL WHERE tenant_id = ? AND assignment_id IN ("
                               + Array(repeating: "?", count: chunk.count).joined(separator: ",") + ")", [tenant] + chunk.map { .uuid($0) })
        }
        var gone: [UUID] = []
        if fullSnapshot {
            for (k, row) in existing where !seen.contains(k) && (row.state == "active" || row.state == "revoking") { gone.append(row.id) }
            for chunk in chunks(gone, of: 500) {
                try await exec("DELETE FROM assignments WHERE tenant_id = ? AND assignment_id IN ("
                                   + Array(repeating: "?", count: chunk.count).joined(separator: ",") + ")", [tenant] + chunk.map { .uuid($0) })
            }
        }
        return (inserted, gone.count)
    }

    func chunks<T>(_ items: [T], of size: Int) -> [[T]] {
        stride(from: 0, to: items.count, by: size).map { Array(items[$0..<min($0 + size, items.count)]) }
    }
}
