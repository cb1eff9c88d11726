import Foundation
import VPPDomain
import VPPUseCases

/// The console's paged lists: sorted, searched and cut by the database (indexes in migration 0009).
extension SQLTenantTransaction: ConsoleListRecords {
    /// States in which a licence counts against the pool.
    static let holdingStates: SQLQuery = "(\(fragment: holding))"

    /// `%text%` for LIKE, with the pattern characters escaped (`ESCAPE '\'`).
    static func pattern(_ search: String) -> String {
        let escaped = search.lowercased().replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(
            of: "%",
            with: "\\%"
        )
        .replacingOccurrences(of: "_", with: "\\_")
        return "%\(escaped)%"
    }

    static func order(_ expression: String, _ descending: Bool, tieBreak: String) -> SQLQuery {
        let direction = descending ? "DESC" : "ASC"
        return
            "ORDER BY \(unescaped: expression) \(unescaped: direction), \(unescaped: tieBreak) \(unescaped: direction)"
    }

    func consoleLicences(
        _ asset: AssetKey,
        _ window: ListWindow<LicenceListColumn>
    ) async throws -> ListPage<ConsoleLicenceRow> {
        let sort =
            switch window.column {
            case .assignee: "coalesce(a.serial, a.client_user_id)"
            case .token: "coalesce(t.location_name, '')"
            case .state: "a.state"
            case .since: "a.changed_at"
            }
        let filter: SQLQuery =
            window.search.isEmpty
            ? "" : "AND lower(coalesce(a.serial, a.client_user_id)) LIKE \(Self.pattern(window.search)) ESCAPE '\\'"
        let matching: SQLQuery =
            "a.tenant_id = \(tenantID) AND \(fragment: asset.matches("a")) \(fragment: filter)"
        let total =
            try await exec("SELECT count(*) AS total FROM assignments a WHERE \(fragment: matching)")
            .first.map { try $0.decode("total", as: Int.self) } ?? 0
        let rows = try await exec(
            """
            SELECT a.serial, a.client_user_id, t.location_name, a.state, a.reason, a.changed_at
            FROM assignments a LEFT JOIN tokens t ON t.tenant_id = a.tenant_id AND t.token_id = a.token_id
            WHERE \(fragment: matching)
            \(fragment: Self.order(sort, window.descending, tieBreak: "a.assignment_id"))
            LIMIT \(window.limit) OFFSET \(window.offset)
            """
        ).map { row in
            let changed = try row.decode("changed_at", as: Int?.self) ?? 0
            return ConsoleLicenceRow(
                serialNumber: try row.decode("serial"),
                clientUserID: try row.decode("client_user_id"),
                tokenLocation: try row.decode("location_name"),
                state: try row.decode("state"),
                reason: try row.decode("reason"),
                since: changed > 0 ? Date(timeIntervalSince1970: Double(changed) / 1000) : nil
            )
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
            table: "devices d",
            select: "d.serial AS id, d.name AS label, \(state) AS state",
            key: "d.serial",
            label: "d.name",
            column: "serial",
            sort: sort,
            joinCounts: window.column == .licences,
            window: window
        )
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
            table: "managed_users u",
            select: "u.client_user_id AS id, u.email AS label, u.status AS state",
            key: "u.client_user_id",
            label: "u.email",
            column: "client_user_id",
            sort: sort,
            joinCounts: window.column == .licences,
            window: window
        )
    }

    /// A page of devices or users with the licences each holds. The licence counts are joined for the whole
    /// list only when sorting by them; otherwise the page is cut first and only its rows are counted.
    /// `table`, `select`, `key`, `label`, `column` and `sort` are fixed SQL text chosen by the callers above.
    private func holders<Column>(
        table: String,
        select: String,
        key: String,
        label: String,
        column: String,
        sort: String,
        joinCounts: Bool,
        window: ListWindow<Column>
    ) async throws -> ListPage<ConsoleHolderRow> {
        let alias = String(key.split(separator: ".")[0])
        let pattern = Self.pattern(window.search)
        let filter: SQLQuery =
            window.search.isEmpty
            ? ""
            : """
            AND (lower(\(unescaped: key)) LIKE \(pattern) ESCAPE '\\'
                OR lower(coalesce(\(unescaped: label), '')) LIKE \(pattern) ESCAPE '\\')
            """
        let matching: SQLQuery = "\(unescaped: alias).tenant_id = \(tenantID) \(fragment: filter)"
        let total =
            try await exec("SELECT count(*) AS total FROM \(unescaped: table) WHERE \(fragment: matching)")
            .first.map { try $0.decode("total", as: Int.self) } ?? 0
        let join: SQLQuery =
            joinCounts
            ? """
            LEFT JOIN (
                SELECT \(unescaped: column) AS holder, count(*) AS held FROM assignments
                WHERE tenant_id = \(tenantID) AND \(unescaped: column) IS NOT NULL
                    AND state IN \(fragment: Self.holdingStates)
                GROUP BY \(unescaped: column)) h ON h.holder = \(unescaped: key)
            """
            : "LEFT JOIN (SELECT NULL AS holder, 0 AS held) h ON 1 = 0"
        let page = try await exec(
            """
            SELECT \(unescaped: select) FROM \(unescaped: table) \(fragment: join) WHERE \(fragment: matching)
            \(fragment: Self.order(sort, window.descending, tieBreak: key))
            LIMIT \(window.limit) OFFSET \(window.offset)
            """
        )
        let ids = try page.map { try $0.decode("id", as: String.self) }
        var licences: [String: [String]] = [:]
        if !ids.isEmpty {
            for row in try await exec(
                """
                SELECT a.\(unescaped: column) AS holder, coalesce(p.name, a.adam_id) AS app, a.state FROM assignments a
                LEFT JOIN apps p ON p.tenant_id = a.tenant_id AND p.adam_id = a.adam_id AND p.pricing = a.pricing
                WHERE a.tenant_id = \(tenantID) AND a.\(unescaped: column) IN (\(list: ids))
                    AND a.state IN \(fragment: Self.holdingStates)
                ORDER BY 2
                """
            ) {
                let state: String = try row.decode("state")
                licences[try row.decode("holder"), default: []].append(
                    "\(try row.decode("app", as: String.self)) (\(state))"
                )
            }
        }
        let rows = try page.map { row in
            let id: String = try row.decode("id")
            return ConsoleHolderRow(
                id: id,
                label: try row.decode("label"),
                state: try row.decode("state"),
                licencesHeld: licences[id]?.count ?? 0,
                licences: licences[id] ?? []
            )
        }
        return ListPage(rows: rows, total: total)
    }

    func appNames(_ assets: Set<AssetKey>) async throws -> [AssetKey: String] {
        var names: [AssetKey: String] = [:]
        let ids = Array(Set(assets.map(\.adamID))).sorted()
        // In slices, so no statement carries more binds than SQLite allows.
        for slice in chunks(ids, of: 500) {
            for row in try await exec(
                """
                SELECT adam_id, pricing, name FROM apps
                WHERE tenant_id = \(tenantID) AND adam_id IN (\(list: slice)) AND name IS NOT NULL
                """
            ) {
                guard let key = try? row.assetKey() else { continue }
                if assets.contains(key) { names[key] = try row.decode("name") }
            }
        }
        return names
    }

    func devicesWithout(_ asset: AssetKey, limit: Int, scan: Int) async throws -> [(serial: String, name: String?)] {
        try await exec(
            """
            SELECT d.serial, d.name FROM (
                SELECT tenant_id, serial, name FROM devices WHERE tenant_id = \(tenantID) AND NOT retired
                ORDER BY serial LIMIT \(scan)) d
            WHERE NOT EXISTS (
                SELECT 1 FROM assignments a WHERE a.tenant_id = d.tenant_id AND a.serial = d.serial
                AND \(fragment: asset.matches("a")) AND a.state IN \(fragment: Self.holdingStates))
            ORDER BY d.serial LIMIT \(limit)
            """
        ).map { (try $0.decode("serial"), try $0.decode("name")) }
    }
}
