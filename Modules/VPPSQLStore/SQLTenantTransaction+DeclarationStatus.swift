import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction {
    /// The device's latest join for the app (an earlier licence's join has been left). `serial` is the change's
    /// enrollee: a device's serial number, or `user <clientUserId>` for a user licence's `User` declaration (a serial
    /// number has no space).
    func latestJoin(serial: String, asset: AssetKey) -> SQLQuery {
        if serial.hasPrefix("user ") {
            let user = String(serial.dropFirst(5))
            return """
                SELECT change_id FROM declaration_set_changes
                WHERE tenant_id = \(tenantID) AND client_user_id = \(user) AND licence_kind = 'User'
                    AND \(fragment: asset.matches()) AND kind = 'join'
                ORDER BY created_at DESC LIMIT 1
                """
        }
        return """
            SELECT change_id FROM declaration_set_changes
            WHERE tenant_id = \(tenantID) AND serial = \(serial) AND \(fragment: asset.matches()) AND kind = 'join'
            ORDER BY created_at DESC LIMIT 1
            """
    }

    func setDeclarationInstallState(serial: String, asset: AssetKey, _ state: DeviceCommandState?) async throws {
        try await exec(
            """
            UPDATE declaration_set_changes SET install_state = \(state?.rawValue)
            WHERE tenant_id = \(tenantID) AND change_id IN (\(fragment: latestJoin(serial: serial, asset: asset)))
            """
        )
    }

    func claimHeal(
        serial: String,
        asset: AssetKey,
        maxAttempts: Int,
        now: Date,
        lease: TimeInterval,
        reason: String
    ) async throws -> HealClaim {
        // Free to heal: never healed, the last re-publish reached the DDM server before this report, or the
        // step's lease ran out (its server died, or Apple never answered). One statement decides, so two servers
        // that receive the same report at once heal it once.
        let free: SQLQuery = """
            (heal_state IS NULL OR (heal_state = 'republished' AND republished_at < \(now))
                OR (heal_state <> 'failed' AND heal_until IS NOT NULL AND heal_until < \(now)))
            """
        let join = latestJoin(serial: serial, asset: asset)
        if let row = try await exec(
            """
            UPDATE declaration_set_changes SET heal_attempts = heal_attempts + 1, heal_state = 'asking',
                heal_until = \(now.addingTimeInterval(lease)), heal_error = NULL
            WHERE tenant_id = \(tenantID) AND change_id IN (\(fragment: join)) AND heal_attempts < \(maxAttempts)
                AND \(fragment: free)
            RETURNING \(fragment: Self.changeColumns)
            """
        ).first {
            let record = try Self.changeRecord(row)
            return .claimed(record, attempt: record.healAttempts)
        }
        if let row = try await exec(
            """
            UPDATE declaration_set_changes SET heal_state = 'failed', install_state = 'failed', heal_until = NULL,
                heal_error = CASE WHEN heal_error IS NULL THEN \(reason) ELSE heal_error || '; ' || \(reason) END
            WHERE tenant_id = \(tenantID) AND change_id IN (\(fragment: join)) AND heal_attempts >= \(maxAttempts)
                AND \(fragment: free)
            RETURNING \(fragment: Self.changeColumns)
            """
        ).first {
            return .exhausted(try Self.changeRecord(row))
        }
        // Not claimed: given up already (nothing more to do), no join, or another heal is under way.
        let step: String?? = try await exec(
            """
            SELECT heal_state FROM declaration_set_changes
            WHERE tenant_id = \(tenantID) AND change_id IN (\(fragment: join))
            """
        ).first.map { try $0.decode("heal_state") }
        guard let step, step != HealStep.failed.rawValue else { return .none }
        return .busy
    }

    func requeueAssociation(_ id: AssignmentID, now: Date) async throws -> Bool {
        try await !exec(
            """
            UPDATE assignments SET state = 'reserved', event_id = NULL, reason = NULL, changed_at = \(now),
                lease_owner = NULL, lease_until = NULL
            WHERE tenant_id = \(tenantID) AND assignment_id = \(id) AND state = 'active'
            RETURNING assignment_id
            """
        ).isEmpty
    }

    func updateHeal(_ changeID: UUID, step: HealStep, error: String?, until: Date?) async throws {
        try await exec(
            """
            UPDATE declaration_set_changes SET heal_state = \(step.rawValue),
                heal_error = \(error.map { String($0.prefix(500)) }),
                heal_until = \(until), install_state = CASE WHEN \(step == .failed) THEN 'failed' ELSE install_state END
            WHERE tenant_id = \(tenantID) AND change_id = \(changeID)
            """
        )
    }

    func healsReassociated(_ ids: [AssignmentID], now: Date) async throws {
        guard !ids.isEmpty else { return }
        let waiting = try await lookupChunks(ids) { chunk in
            try await exec(
                """
                SELECT change_id, adam_id, pricing, licence_kind FROM declaration_set_changes
                WHERE tenant_id = \(tenantID) AND kind = 'join' AND heal_state = 'reassociating'
                    AND assignment_id IN (\(list: chunk))
                """
            ).map { row -> (UUID, AssetKey, String) in
                (try row.decode("change_id"), try row.assetKey(), try row.decode("licence_kind"))
            }
        }
        let byDeclaration = Dictionary(grouping: waiting) { "\($0.1.adamID)|\($0.1.pricingParam.rawValue)|\($0.2)" }
        for (_, group) in byDeclaration.sorted(by: { $0.key < $1.key }) {
            guard let kind = LicenceAssignmentKind(rawValue: group[0].2) else { continue }
            try await requestRepublish(asset: group[0].1, kind: kind, joins: group.map(\.0), now: now)
        }
    }

    func requestRepublish(asset: AssetKey, kind: LicenceAssignmentKind, joins: [UUID], now: Date) async throws {
        try await exec(
            """
            INSERT INTO declaration_publications (tenant_id, adam_id, pricing, licence_kind, publication, published,
                updated_at)
            VALUES (\(tenantID), \(asset.adamID), \(asset.pricingParam), \(kind.rawValue), 1, 0, \(now))
            ON CONFLICT (tenant_id, adam_id, pricing, licence_kind) DO UPDATE
                SET publication = declaration_publications.publication + 1, updated_at = excluded.updated_at
            """
        )
        for chunk in chunks(joins, of: 500) {
            try await exec(
                """
                UPDATE declaration_set_changes SET heal_state = 'republishing', heal_until = NULL
                WHERE tenant_id = \(tenantID) AND change_id IN (\(list: chunk))
                """
            )
            // A DDM server that pulls is offered the re-publication as the join again, queued with the new document
            // (GET /v1/declaration-changes); its report of the join done marks the declaration re-published.
            try await exec(
                """
                UPDATE declaration_set_changes SET state = 'queued', next_attempt_at = \(now), last_error = NULL,
                    lease_owner = NULL, lease_until = NULL, updated_at = \(now)
                WHERE tenant_id = \(tenantID) AND change_id IN (\(list: chunk)) AND kind = 'join' AND state = 'done'
                    AND EXISTS (SELECT 1 FROM tenant_app_delivery t
                        WHERE t.tenant_id = declaration_set_changes.tenant_id AND t.publisher = 'pull')
                """
            )
        }
    }

    func requestTermsRepublish(asset: AssetKey, now: Date) async throws {
        try await exec(
            """
            INSERT INTO declaration_publications (tenant_id, adam_id, pricing, licence_kind, publication, published,
                updated_at)
            SELECT DISTINCT tenant_id, adam_id, pricing, licence_kind, 1, 0, \(now) FROM declaration_set_changes
            WHERE tenant_id = \(tenantID) AND \(fragment: asset.matches()) AND kind = 'join'
            ON CONFLICT (tenant_id, adam_id, pricing, licence_kind) DO UPDATE
                SET publication = declaration_publications.publication + 1, updated_at = excluded.updated_at
            """
        )
    }

    func declarationPublications() async throws -> [String: Int] {
        var found: [String: Int] = [:]
        for row in try await exec(
            """
            SELECT adam_id, pricing, licence_kind, publication FROM declaration_publications
            WHERE tenant_id = \(tenantID)
            """
        ) {
            let licence: String = try row.decode("licence_kind")
            guard let kind = LicenceAssignmentKind(rawValue: licence),
                let declaration = try? ManagedAppDeclaration(asset: try row.assetKey(), assignment: kind)
            else { continue }
            found[declaration.identifier] = try row.decode("publication")
        }
        return found
    }

    func dueRepublications() async throws -> [(asset: AssetKey, kind: LicenceAssignmentKind, publication: Int)] {
        try await exec(
            """
            SELECT adam_id, pricing, licence_kind, publication FROM declaration_publications
            WHERE tenant_id = \(tenantID) AND publication > published ORDER BY adam_id, pricing, licence_kind
            """
        ).compactMap { row in
            let licence: String = try row.decode("licence_kind")
            guard let kind = LicenceAssignmentKind(rawValue: licence) else { return nil }
            return (try row.assetKey(), kind, try row.decode("publication"))
        }
    }

    func markRepublished(asset: AssetKey, kind: LicenceAssignmentKind, publication: Int, now: Date) async throws {
        // The devices evaluate the new ServerToken now: read their status back soon (KMFDDM's status polls).
        try await armRepublishedPolls(asset: asset, kind: kind, now: now)
        try await exec(
            """
            UPDATE declaration_publications SET published = \(publication), updated_at = \(now)
            WHERE tenant_id = \(tenantID) AND \(fragment: asset.matches()) AND licence_kind = \(kind.rawValue)
                AND published < \(publication)
            """
        )
        try await exec(
            """
            UPDATE declaration_set_changes SET heal_state = 'republished', republished_at = \(now), heal_until = NULL
            WHERE tenant_id = \(tenantID) AND \(fragment: asset.matches()) AND licence_kind = \(kind.rawValue)
                AND kind = 'join' AND heal_state = 'republishing'
            """
        )
    }
}
