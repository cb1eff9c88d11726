import Foundation
import VPPDomain
import VPPUseCases

/// Groups, scopes, the reconciler's tracking rows and alert levels (migration 0014).
extension SQLTenantTransaction: ScopeRecords {
    // MARK: Groups

    func upsertGroup(_ group: DeviceGroup) async throws {
        let platforms = group.dynamic?.platforms.map(\.rawValue).sorted().joined(separator: ",") ?? ""
        try await exec(
            """
            INSERT INTO device_groups (tenant_id, name, dynamic, platforms, model_prefix, updated_at)
            VALUES (\(tenantID), \(group.name.value), \(group.dynamic != nil), \(platforms),
                \(group.dynamic?.modelPrefix), \(clock()))
            ON CONFLICT (tenant_id, name) DO UPDATE SET dynamic = excluded.dynamic, platforms = excluded.platforms,
                model_prefix = excluded.model_prefix, updated_at = excluded.updated_at
            """
        )
        // A group turned dynamic has no written members.
        if group.dynamic != nil {
            try await exec(
                "DELETE FROM group_members WHERE tenant_id = \(tenantID) AND group_name = \(group.name.value)"
            )
        }
    }

    func group(_ name: GroupName) async throws -> GroupRecord? {
        try await groups(where: "g.name = \(name.value)").first
    }

    func groups() async throws -> [GroupRecord] {
        try await groups(where: "true")
    }

    private func groups(where condition: SQLQuery) async throws -> [GroupRecord] {
        try await exec(
            """
            SELECT g.name, g.dynamic, g.platforms, g.model_prefix, g.updated_at,
                (SELECT count(*) FROM group_members m WHERE m.tenant_id = g.tenant_id AND m.group_name = g.name)
                    AS member_count
            FROM device_groups g WHERE g.tenant_id = \(tenantID) AND \(fragment: condition) ORDER BY g.name
            """
        ).map { row in
            let name = try GroupName(try row.decode("name", as: String.self))
            var dynamic: DynamicMembership?
            if try row.decode("dynamic", as: Bool.self) {
                let platforms = try row.decode("platforms", as: String.self).split(separator: ",")
                    .compactMap { DeviceOSFamily(rawValue: String($0)) }
                dynamic = try DynamicMembership(
                    platforms: Set(platforms),
                    modelPrefix: try row.decode("model_prefix", as: String?.self)
                )
            }
            return GroupRecord(
                group: DeviceGroup(name: name, dynamic: dynamic),
                memberCount: try row.decode("member_count"),
                updatedAt: try row.decode("updated_at")
            )
        }
    }

    func deleteGroup(_ name: GroupName) async throws -> Bool {
        try await exec("DELETE FROM group_members WHERE tenant_id = \(tenantID) AND group_name = \(name.value)")
        return try await !exec(
            "DELETE FROM device_groups WHERE tenant_id = \(tenantID) AND name = \(name.value) RETURNING name"
        ).isEmpty
    }

    func replaceGroupMembers(_ name: GroupName, _ members: [Assignee], now: Date) async throws {
        let keep = Set(members.map(\.sortKey))
        let current = try await exec(
            "SELECT member FROM group_members WHERE tenant_id = \(tenantID) AND group_name = \(name.value)"
        ).map { try $0.decode("member", as: String.self) }
        let gone = current.filter { !keep.contains($0) }
        for chunk in chunks(gone, of: 500) {
            try await exec(
                """
                DELETE FROM group_members
                WHERE tenant_id = \(tenantID) AND group_name = \(name.value) AND member IN (\(list: chunk))
                """
            )
        }
        try await addGroupMembers(name, members, now: now)
    }

    func addGroupMembers(_ name: GroupName, _ members: [Assignee], now: Date) async throws {
        let keys = Array(Set(members.map(\.sortKey))).sorted()
        try await insertMany(
            "INSERT INTO group_members (tenant_id, group_name, member, added_at)",
            rows: keys.map { "(\(tenantID), \(name.value), \($0), \(now))" },
            suffix: "ON CONFLICT DO NOTHING"
        )
    }

    func removeGroupMembers(_ name: GroupName, _ members: [Assignee]) async throws {
        for chunk in chunks(members.map(\.sortKey), of: 500) {
            try await exec(
                """
                DELETE FROM group_members
                WHERE tenant_id = \(tenantID) AND group_name = \(name.value) AND member IN (\(list: chunk))
                """
            )
        }
    }

    func groupMemberPage(_ name: GroupName, after: String?, limit: Int) async throws -> [Assignee] {
        let from: SQLQuery = after.map { "AND member > \($0)" } ?? ""
        return try await exec(
            """
            SELECT member FROM group_members
            WHERE tenant_id = \(tenantID) AND group_name = \(name.value) \(fragment: from)
            ORDER BY member LIMIT \(max(0, limit))
            """
        ).compactMap { Assignee(sortKey: try $0.decode("member")) }
    }

    func groupMembers(_ names: [GroupName]) async throws -> [Assignee] {
        guard !names.isEmpty else { return [] }
        return try await exec(
            """
            SELECT DISTINCT member FROM group_members
            WHERE tenant_id = \(tenantID) AND group_name IN (\(list: names.map(\.value)))
            """
        ).compactMap { Assignee(sortKey: try $0.decode("member")) }
    }

    // MARK: Scopes

    func upsertScope(_ scope: AppScope, now: Date) async throws {
        func json(_ values: [String]) -> String {
            String(decoding: (try? JSONEncoder().encode(values)) ?? Data("[]".utf8), as: UTF8.self)
        }
        try await exec(
            """
            INSERT INTO app_scopes (tenant_id, name, adam_id, pricing, group_names, serials, users, priority,
                removal_grace_seconds, uninstall_on_removal, mode, install, app_version, automatic_updates,
                updated_at)
            VALUES (\(tenantID), \(scope.name.value), \(scope.asset.adamID), \(scope.asset.pricingParam),
                \(json(scope.groups.map(\.value))), \(json(scope.serialNumbers.map(\.value))),
                \(json(scope.clientUserIDs.map(\.value))), \(scope.priority), \(scope.removalGraceSeconds),
                \(scope.uninstallOnRemoval), \(scope.mode.rawValue), \(scope.declaration.install.rawValue),
                \(scope.declaration.version), \(scope.declaration.automaticUpdates?.rawValue), \(now))
            ON CONFLICT (tenant_id, name) DO UPDATE SET adam_id = excluded.adam_id, pricing = excluded.pricing,
                group_names = excluded.group_names, serials = excluded.serials, users = excluded.users,
                priority = excluded.priority, removal_grace_seconds = excluded.removal_grace_seconds,
                uninstall_on_removal = excluded.uninstall_on_removal, mode = excluded.mode,
                install = excluded.install, app_version = excluded.app_version,
                automatic_updates = excluded.automatic_updates, updated_at = excluded.updated_at
            """
        )
    }

    func scope(_ name: ScopeName) async throws -> AppScope? {
        try await scopes(where: "name = \(name.value)").first
    }

    func scopes() async throws -> [AppScope] {
        try await scopes(where: "true")
    }

    func scopes(of asset: AssetKey) async throws -> [AppScope] {
        try await scopes(where: asset.matches())
    }

    private func scopes(where condition: SQLQuery) async throws -> [AppScope] {
        func list(_ row: SQLRow, _ column: String) throws -> [String] {
            try JSONDecoder().decode([String].self, from: Data(try row.decode(column, as: String.self).utf8))
        }
        return try await exec(
            """
            SELECT name, adam_id, pricing, group_names, serials, users, priority, removal_grace_seconds,
                uninstall_on_removal, mode, install, app_version, automatic_updates
            FROM app_scopes WHERE tenant_id = \(tenantID) AND \(fragment: condition) ORDER BY name
            """
        ).map { row in
            try AppScope(
                name: try ScopeName(try row.decode("name", as: String.self)),
                asset: try row.assetKey(),
                groups: try list(row, "group_names").map { try GroupName($0) },
                serialNumbers: try list(row, "serials").map { try SerialNumber($0) },
                clientUserIDs: try list(row, "users").map { try ClientUserID($0) },
                priority: try row.decode("priority"),
                removalGraceSeconds: try row.decode("removal_grace_seconds"),
                uninstallOnRemoval: try row.decode("uninstall_on_removal"),
                mode: ScopeDeliveryMode(rawValue: try row.decode("mode")) ?? .install,
                declaration: try Self.declarationTerms(row)
            )
        }
    }

    /// A stored scope's declaration terms; a value this build does not know is an error, never a silent default.
    private static func declarationTerms(_ row: SQLRow) throws -> DeclarationTerms {
        let installText: String = try row.decode("install")
        let updatesText: String? = try row.decode("automatic_updates")
        guard let install = AppInstallPolicy(rawValue: installText) else {
            throw StoreError.unreadable("app_scopes.install \(installText.prefix(40))")
        }
        var updates: AutomaticAppUpdates?
        if let updatesText {
            guard let known = AutomaticAppUpdates(rawValue: updatesText) else {
                throw StoreError.unreadable("app_scopes.automatic_updates \(updatesText.prefix(40))")
            }
            updates = known
        }
        let version: Int? = try row.decode("app_version")
        return try DeclarationTerms(install: install, version: version, automaticUpdates: updates)
    }

    func deleteScope(_ name: ScopeName) async throws -> Bool {
        try await !exec(
            "DELETE FROM app_scopes WHERE tenant_id = \(tenantID) AND name = \(name.value) RETURNING name"
        ).isEmpty
    }

    func hasDesiredState() async throws -> Bool {
        try await !exec(
            """
            SELECT 1 AS found FROM app_scopes WHERE tenant_id = \(tenantID)
            UNION ALL SELECT 1 AS found FROM scope_tracking WHERE tenant_id = \(tenantID)
            UNION ALL SELECT 1 AS found FROM app_alerts WHERE tenant_id = \(tenantID) LIMIT 1
            """
        ).isEmpty
    }

    // MARK: Tracking

    private static let trackingColumns =
        "member, scope_name, priority, entered_at, left_at, granted_by_scope, removal_grace_seconds, "
        + "uninstall_on_removal, mode"

    private func trackedMember(_ row: SQLRow) throws -> TrackedMember? {
        guard let assignee = Assignee(sortKey: try row.decode("member")),
            let scope = try? ScopeName(try row.decode("scope_name", as: String.self))
        else { return nil }
        return TrackedMember(
            assignee: assignee,
            scope: scope,
            priority: try row.decode("priority"),
            enteredAt: try row.decode("entered_at"),
            leftAt: try row.decode("left_at"),
            grantedByScope: try row.decode("granted_by_scope"),
            removalGraceSeconds: try row.decode("removal_grace_seconds"),
            uninstallOnRemoval: try row.decode("uninstall_on_removal"),
            mode: ScopeDeliveryMode(rawValue: try row.decode("mode")) ?? .install
        )
    }

    func trackedMembers(_ asset: AssetKey) async throws -> [TrackedMember] {
        try await exec(
            """
            SELECT \(unescaped: Self.trackingColumns) FROM scope_tracking
            WHERE tenant_id = \(tenantID) AND \(fragment: asset.matches())
            """
        ).compactMap(trackedMember)
    }

    func trackedMembers(_ asset: AssetKey, _ assignees: [Assignee]) async throws -> [TrackedMember] {
        try await lookupChunks(assignees.map(\.sortKey)) { chunk in
            try await exec(
                """
                SELECT \(unescaped: Self.trackingColumns) FROM scope_tracking
                WHERE tenant_id = \(tenantID) AND \(fragment: asset.matches()) AND member IN (\(list: chunk))
                """
            ).compactMap(trackedMember)
        }
    }

    func trackedAssets() async throws -> [AssetKey] {
        try await exec(
            """
            SELECT DISTINCT adam_id, pricing FROM scope_tracking WHERE tenant_id = \(tenantID)
            ORDER BY adam_id, pricing
            """
        ).map { try $0.assetKey() }
    }

    func saveTracking(_ asset: AssetKey, upsert: [TrackedMember], forget: [Assignee]) async throws {
        for chunk in chunks(forget.map(\.sortKey), of: 500) {
            try await exec(
                """
                DELETE FROM scope_tracking
                WHERE tenant_id = \(tenantID) AND \(fragment: asset.matches()) AND member IN (\(list: chunk))
                """
            )
        }
        try await insertMany(
            """
            INSERT INTO scope_tracking (tenant_id, adam_id, pricing, member, scope_name, priority, entered_at, left_at,
                granted_by_scope, removal_grace_seconds, uninstall_on_removal, mode)
            """,
            rows: upsert.map { row in
                """
                (\(tenantID), \(asset.adamID), \(asset.pricingParam), \(row.assignee.sortKey), \(row.scope.value),
                \(row.priority), \(row.enteredAt), \(row.leftAt), \(row.grantedByScope), \(row.removalGraceSeconds),
                \(row.uninstallOnRemoval), \(row.mode.rawValue))
                """
            },
            suffix: """
                ON CONFLICT (tenant_id, adam_id, pricing, member) DO UPDATE SET scope_name = excluded.scope_name,
                    priority = excluded.priority, entered_at = excluded.entered_at, left_at = excluded.left_at,
                    granted_by_scope = excluded.granted_by_scope,
                    removal_grace_seconds = excluded.removal_grace_seconds,
                    uninstall_on_removal = excluded.uninstall_on_removal, mode = excluded.mode
                """
        )
    }

    func waitingCount(_ asset: AssetKey) async throws -> Int? {
        try await exec(
            """
            SELECT waiting FROM scope_app_state WHERE tenant_id = \(tenantID) AND \(fragment: asset.matches())
            """
        ).first.map { try $0.decode("waiting") }
    }

    func setWaitingCount(_ asset: AssetKey, _ waiting: Int) async throws {
        try await exec(
            """
            INSERT INTO scope_app_state (tenant_id, adam_id, pricing, waiting)
            VALUES (\(tenantID), \(asset.adamID), \(asset.pricingParam), \(waiting))
            ON CONFLICT (tenant_id, adam_id, pricing) DO UPDATE SET waiting = excluded.waiting
            """
        )
    }

    func groupMembers(_ names: [GroupName], among members: [Assignee]) async throws -> [(GroupName, Assignee)] {
        guard !names.isEmpty else { return [] }
        return try await lookupChunks(members.map(\.sortKey)) { chunk in
            try await exec(
                """
                SELECT group_name, member FROM group_members
                WHERE tenant_id = \(tenantID) AND group_name IN (\(list: names.map(\.value)))
                    AND member IN (\(list: chunk))
                """
            ).compactMap { row -> (GroupName, Assignee)? in
                guard let name = try? GroupName(try row.decode("group_name", as: String.self)),
                    let member = Assignee(sortKey: try row.decode("member"))
                else { return nil }
                return (name, member)
            }
        }
    }

    // MARK: Alerts and history

    func upsertAlert(_ alert: AppAlert) async throws {
        try await exec(
            """
            INSERT INTO app_alerts (tenant_id, adam_id, pricing, below, below_percent, crossed_at)
            VALUES (\(tenantID), \(alert.asset.adamID), \(alert.asset.pricingParam), \(alert.below),
                \(alert.belowPercent), \(alert.crossedAt))
            ON CONFLICT (tenant_id, adam_id, pricing) DO UPDATE SET below = excluded.below,
                below_percent = excluded.below_percent, crossed_at = excluded.crossed_at
            """
        )
    }

    func alert(_ asset: AssetKey) async throws -> AppAlert? {
        try await exec(
            """
            SELECT below, below_percent, crossed_at FROM app_alerts
            WHERE tenant_id = \(tenantID) AND \(fragment: asset.matches())
            """
        ).first.map { row in
            AppAlert(
                asset: asset,
                below: try row.decode("below"),
                belowPercent: try row.decode("below_percent"),
                crossedAt: try row.decode("crossed_at")
            )
        }
    }

    func alerts() async throws -> [AppAlert] {
        try await exec(
            """
            SELECT adam_id, pricing, below, below_percent, crossed_at FROM app_alerts
            WHERE tenant_id = \(tenantID) ORDER BY adam_id, pricing
            """
        ).map { row in
            AppAlert(
                asset: try row.assetKey(),
                below: try row.decode("below"),
                belowPercent: try row.decode("below_percent"),
                crossedAt: try row.decode("crossed_at")
            )
        }
    }

    func markAlertCrossed(_ asset: AssetKey, at: Date) async throws -> Bool {
        try await !exec(
            """
            UPDATE app_alerts SET crossed_at = \(at)
            WHERE tenant_id = \(tenantID) AND \(fragment: asset.matches()) AND crossed_at IS NULL
            RETURNING adam_id
            """
        ).isEmpty
    }

    func clearAlertCrossed(_ asset: AssetKey) async throws {
        try await exec(
            """
            UPDATE app_alerts SET crossed_at = NULL
            WHERE tenant_id = \(tenantID) AND \(fragment: asset.matches()) AND crossed_at IS NOT NULL
            """
        )
    }

    func dailyNetGrants(_ asset: AssetKey, since: Date) async throws -> [Int: Int] {
        var result: [Int: Int] = [:]
        for row in try await exec(
            """
            SELECT changed_at / 86400000 AS day,
                sum(CASE WHEN state IN (\(fragment: Self.holding)) THEN 1 WHEN state = 'revoked' THEN -1 ELSE 0 END)
                    AS net
            FROM assignments
            WHERE tenant_id = \(tenantID) AND \(fragment: asset.matches()) AND changed_at >= \(since)
            GROUP BY changed_at / 86400000
            """
        ) {
            result[try row.decode("day")] = try row.decode("net")
        }
        return result
    }

}
