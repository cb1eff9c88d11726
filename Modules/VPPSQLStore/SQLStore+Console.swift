import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction: ConsoleRecords {
    static let adminColumns = "tenant_id, admin_id, username, role, password_hash, created_at"

    static func adminAccount(_ row: SQLRow, offset: Int = 0) throws -> AdminAccount {
        AdminAccount(
            id: AdminID(try row.uuid(offset + 1)), tenantID: TenantID(try row.uuid(offset)),
            username: try Username(try row.text(offset + 2)),
            role: Role(rawValue: try row.text(offset + 3)) ?? .readOnly, passwordHash: try row.text(offset + 4),
            createdAt: try row.time(offset + 5))
    }

    func insertAdminAccount(_ account: AdminAccount) async throws {
        do {
            try await exec(
                "INSERT INTO console_admins (\(Self.adminColumns)) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    tenant, .uuid(account.id.rawValue), .text(account.username.value), .text(account.role.rawValue),
                    .text(account.passwordHash), .time(account.createdAt),
                ],
                unique: { _ in StoreError.constraintViolation("duplicate admin") })
        } catch StoreError.constraintViolation("duplicate admin") {
            throw AdminAccountError.duplicateUsername(account.username.value)
        }
    }

    func adminAccounts() async throws -> [AdminAccount] {
        try await exec(
            "SELECT \(Self.adminColumns) FROM console_admins WHERE tenant_id = ? ORDER BY username", [tenant]
        )
        .map { try Self.adminAccount($0) }
    }

    func insertConsoleSession(_ session: ConsoleSessionRecord) async throws {
        try await exec(
            "INSERT INTO console_sessions (tenant_id, id_hash, admin_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            [
                tenant, .text(session.idHash), .uuid(session.adminID.rawValue), .text(session.csrfToken),
                .time(session.createdAt),
                .time(session.expiresAt),
            ])
    }

    func deleteExpiredConsoleSessions(now: Date) async throws {
        try await exec("DELETE FROM console_sessions WHERE tenant_id = ? AND expires_at < ?", [tenant, .time(now)])
    }
}

extension SQLStore: ConsoleDirectory {
    public func adminAccounts(username: Username) async throws -> [AdminAccount] {
        try await run { connection in
            try await connection.query(
                "SELECT \(SQLTenantTransaction.adminColumns) FROM console_admins WHERE username = ? ORDER BY tenant_id",
                .text(username.value)
            )
            .map { try SQLTenantTransaction.adminAccount($0) }
        }
    }

    public func consoleSession(idHash: String, now: Date) async throws -> (ConsoleSessionRecord, AdminAccount)? {
        try await run { connection in
            try await connection.query(
                """
                SELECT s.tenant_id, s.id_hash, s.admin_id, s.csrf_token, s.created_at, s.expires_at,
                       a.tenant_id, a.admin_id, a.username, a.role, a.password_hash, a.created_at
                FROM console_sessions s JOIN console_admins a ON a.tenant_id = s.tenant_id AND a.admin_id = s.admin_id
                WHERE s.id_hash = ? AND s.expires_at > ?
                """, .text(idHash), .time(now)
            ).first.map { row in
                (
                    ConsoleSessionRecord(
                        idHash: try row.text(1), tenantID: TenantID(try row.uuid(0)), adminID: AdminID(try row.uuid(2)),
                        csrfToken: try row.text(3), createdAt: try row.time(4), expiresAt: try row.time(5)),
                    try SQLTenantTransaction.adminAccount(row, offset: 6)
                )
            }
        }
    }

    public func deleteConsoleSession(idHash: String) async throws {
        _ = try await run { connection in
            try await connection.query("DELETE FROM console_sessions WHERE id_hash = ?", .text(idHash))
        }
    }

    public func signInFailures(keys: [String]) async throws -> [String: SignInFailures] {
        guard !keys.isEmpty else { return [:] }
        let marks = Array(repeating: "?", count: keys.count).joined(separator: ", ")
        return try await run { connection in
            var result: [String: SignInFailures] = [:]
            for row in try await connection.query(
                "SELECT throttle_key, failures, window_start FROM console_sign_in_failures WHERE throttle_key IN (\(marks))",
                keys.map(SQLValue.text))
            {
                result[try row.text(0)] = SignInFailures(failures: try row.int(1), windowStart: try row.time(2))
            }
            return result
        }
    }

    public func recordSignInFailure(key: String, now: Date, windowStartsAfter: Date) async throws -> SignInFailures {
        // One statement, so concurrent failures on several replicas all count. Counts whose window has passed
        // are dropped first, so guessing many names or addresses cannot grow the table without end.
        try await run { connection in
            _ = try await connection.query(
                "DELETE FROM console_sign_in_failures WHERE window_start <= ?", .time(windowStartsAfter))
            let rows = try await connection.query(
                """
                INSERT INTO console_sign_in_failures (throttle_key, failures, window_start) VALUES (?, 1, ?)
                ON CONFLICT (throttle_key) DO UPDATE SET
                    failures = CASE WHEN console_sign_in_failures.window_start <= ? THEN 1 ELSE console_sign_in_failures.failures + 1 END,
                    window_start = CASE WHEN console_sign_in_failures.window_start <= ? THEN excluded.window_start
                                        ELSE console_sign_in_failures.window_start END
                RETURNING failures, window_start
                """, .text(key), .time(now), .time(windowStartsAfter), .time(windowStartsAfter))
            guard let row = rows.first else {
                throw StoreError.unavailable("no row returned for the sign-in failure count")
            }
            return SignInFailures(failures: try row.int(0), windowStart: try row.time(1))
        }
    }

    public func clearSignInFailures(key: String) async throws {
        _ = try await run { connection in
            try await connection.query("DELETE FROM console_sign_in_failures WHERE throttle_key = ?", .text(key))
        }
    }
}

/// The console's paged lists: sorted, searched and cut by the database (indexes in migration 0009).
extension SQLTenantTransaction: ConsoleListRecords {
    /// States in which a licence counts against the pool.
    static let holdingStates = "('reserved', 'pending', 'active', 'revocation-queued', 'revoking')"

    /// `%text%` for LIKE, with the pattern characters escaped (`ESCAPE '\'`).
    static func pattern(_ search: String) -> SQLValue {
        let escaped = search.lowercased().replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(
            of: "%", with: "\\%"
        )
        .replacingOccurrences(of: "_", with: "\\_")
        return .text("%\(escaped)%")
    }

    static func order(_ expression: String, _ descending: Bool, tieBreak: String) -> String {
        "ORDER BY \(expression) \(descending ? "DESC" : "ASC"), \(tieBreak) \(descending ? "DESC" : "ASC")"
    }

    func consoleLicences(
        _ asset: AssetKey, _ window: ListWindow<LicenceListColumn>
    ) async throws -> ListPage<ConsoleLicenceRow> {
        let sort =
            switch window.column {
            case .assignee: "coalesce(a.serial, a.client_user_id)"
            case .token: "coalesce(t.location_name, '')"
            case .state: "a.state"
            case .since: "a.changed_at"
            }
        let filter = window.search.isEmpty ? "" : "AND lower(coalesce(a.serial, a.client_user_id)) LIKE ? ESCAPE '\\'"
        let binds: [SQLValue] =
            [tenant, .text(asset.adamID), .text(asset.pricingParam.rawValue)]
            + (window.search.isEmpty ? [] : [Self.pattern(window.search)])
        let total =
            try await exec(
                "SELECT count(*) FROM assignments a WHERE a.tenant_id = ? AND a.adam_id = ? AND a.pricing = ? \(filter)",
                binds
            )
            .first.map { try $0.int(0) } ?? 0
        let rows = try await exec(
            """
            SELECT a.serial, a.client_user_id, t.location_name, a.state, a.reason, a.changed_at
            FROM assignments a LEFT JOIN tokens t ON t.tenant_id = a.tenant_id AND t.token_id = a.token_id
            WHERE a.tenant_id = ? AND a.adam_id = ? AND a.pricing = ? \(filter)
            \(Self.order(sort, window.descending, tieBreak: "a.assignment_id")) LIMIT ? OFFSET ?
            """, binds + [.int(Int64(window.limit)), .int(Int64(window.offset))]
        ).map { row in
            let changed = try row.optionalInt(5) ?? 0
            return ConsoleLicenceRow(
                serialNumber: try row.optionalText(0), clientUserID: try row.optionalText(1),
                tokenLocation: try row.optionalText(2), state: try row.text(3), reason: try row.optionalText(4),
                since: changed > 0 ? Date(timeIntervalSince1970: Double(changed) / 1000) : nil)
        }
        return ListPage(rows: rows, total: total)
    }

    func consoleDevices(_ window: ListWindow<DeviceListColumn>) async throws -> ListPage<ConsoleHolderRow> {
        let state = "CASE WHEN d.retired THEN 'retired' ELSE d.enrollment_state END"
        let sort =
            switch window.column {
            case .serial: "d.serial"
            case .name: "coalesce(d.name, '')"
            case .enrollment: state
            case .licences: "coalesce(h.held, 0)"
            }
        return try await holders(
            count: "SELECT count(*) FROM devices d WHERE d.tenant_id = ?",
            select: "SELECT d.serial, d.name, \(state), coalesce(h.held, 0) FROM devices d",
            key: "d.serial", label: "d.name", column: "serial", sort: sort, joinCounts: window.column == .licences,
            window: window)
    }

    func consoleUsers(_ window: ListWindow<UserListColumn>) async throws -> ListPage<ConsoleHolderRow> {
        let sort =
            switch window.column {
            case .id: "u.client_user_id"
            case .email: "coalesce(u.email, '')"
            case .status: "u.status"
            case .licences: "coalesce(h.held, 0)"
            }
        return try await holders(
            count: "SELECT count(*) FROM managed_users u WHERE u.tenant_id = ?",
            select: "SELECT u.client_user_id, u.email, u.status, coalesce(h.held, 0) FROM managed_users u",
            key: "u.client_user_id", label: "u.email", column: "client_user_id", sort: sort,
            joinCounts: window.column == .licences,
            window: window)
    }

    /// A page of devices or users with the licences each holds. The licence counts are joined for the whole
    /// list only when sorting by them; otherwise the page is cut first and only its rows are counted.
    private func holders<Column>(
        count: String, select: String, key: String, label: String, column: String, sort: String,
        joinCounts: Bool, window: ListWindow<Column>
    ) async throws -> ListPage<ConsoleHolderRow> {
        let filter =
            window.search.isEmpty
            ? "" : "AND (lower(\(key)) LIKE ? ESCAPE '\\' OR lower(coalesce(\(label), '')) LIKE ? ESCAPE '\\')"
        let searchBinds: [SQLValue] =
            window.search.isEmpty ? [] : [Self.pattern(window.search), Self.pattern(window.search)]
        let total = try await exec("\(count) \(filter)", [tenant] + searchBinds).first.map { try $0.int(0) } ?? 0
        let counts = """
            SELECT \(column) AS holder, count(*) AS held FROM assignments
            WHERE tenant_id = ? AND \(column) IS NOT NULL AND state IN \(Self.holdingStates) GROUP BY \(column)
            """
        let join =
            joinCounts
            ? "LEFT JOIN (\(counts)) h ON h.holder = \(key)" : "LEFT JOIN (SELECT NULL AS holder, 0 AS held) h ON 1 = 0"
        let page = try await exec(
            "\(select) \(join) WHERE \(key.split(separator: ".")[0]).tenant_id = ? \(filter) \(Self.order(sort, window.descending, tieBreak: key)) LIMIT ? OFFSET ?",
            (joinCounts ? [tenant] : []) + [tenant] + searchBinds + [
                .int(Int64(window.limit)), .int(Int64(window.offset)),
            ])
        let ids = try page.map { try $0.text(0) }
        var licences: [String: [String]] = [:]
        if !ids.isEmpty {
            let marks = Array(repeating: "?", count: ids.count).joined(separator: ", ")
            for row in try await exec(
                """
                SELECT a.\(column), coalesce(p.name, a.adam_id), a.state FROM assignments a
                LEFT JOIN apps p ON p.tenant_id = a.tenant_id AND p.adam_id = a.adam_id AND p.pricing = a.pricing
                WHERE a.tenant_id = ? AND a.\(column) IN (\(marks)) AND a.state IN \(Self.holdingStates)
                ORDER BY 2
                """, [tenant] + ids.map(SQLValue.text))
            {
                licences[try row.text(0), default: []].append("\(try row.text(1)) (\(try row.text(2)))")
            }
        }
        let rows = try page.map { row in
            let id = try row.text(0)
            return ConsoleHolderRow(
                id: id, label: try row.optionalText(1), state: try row.text(2),
                licencesHeld: licences[id]?.count ?? 0, licences: licences[id] ?? [])
        }
        return ListPage(rows: rows, total: total)
    }

    func appNames(_ assets: Set<AssetKey>) async throws -> [AssetKey: String] {
        var names: [AssetKey: String] = [:]
        let ids = Array(Set(assets.map(\.adamID))).sorted()
        // In slices, so no statement carries more binds than SQLite allows.
        for start in stride(from: 0, to: ids.count, by: 500) {
            let slice = Array(ids[start..<min(start + 500, ids.count)])
            let marks = Array(repeating: "?", count: slice.count).joined(separator: ", ")
            for row in try await exec(
                "SELECT adam_id, pricing, name FROM apps WHERE tenant_id = ? AND adam_id IN (\(marks)) AND name IS NOT NULL",
                [tenant] + slice.map(SQLValue.text))
            {
                let key = AssetKey(
                    adamID: try row.text(0), pricingParam: PricingParam(rawValue: try row.text(1)) ?? .standard)
                if assets.contains(key) { names[key] = try row.text(2) }
            }
        }
        return names
    }

    func devicesWithout(_ asset: AssetKey, limit: Int, scan: Int) async throws -> [(serial: String, name: String?)] {
        try await exec(
            """
            SELECT d.serial, d.name FROM (
                SELECT tenant_id, serial, name FROM devices WHERE tenant_id = ? AND NOT retired ORDER BY serial LIMIT ?) d
            WHERE NOT EXISTS (
                SELECT 1 FROM assignments a WHERE a.tenant_id = d.tenant_id AND a.serial = d.serial AND a.adam_id = ? AND a.pricing = ?
                AND a.state IN \(Self.holdingStates))
            ORDER BY d.serial LIMIT ?
            """,
            [tenant, .int(Int64(scan)), .text(asset.adamID), .text(asset.pricingParam.rawValue), .int(Int64(limit))]
        ).map { (try $0.text(0), try $0.optionalText(1)) }
    }
}
