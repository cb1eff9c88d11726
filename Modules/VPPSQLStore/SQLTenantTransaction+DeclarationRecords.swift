import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction: DeclarationRecords {
    func appDelivery() async throws -> AppDelivery {
        let stored: String? = try await exec(
            "SELECT delivery FROM tenant_app_delivery WHERE tenant_id = \(tenantID)"
        ).first?.decode("delivery")
        guard let stored else { return .commands }
        guard let delivery = AppDelivery(rawValue: stored) else { throw StoreError.unreadable("delivery \(stored)") }
        return delivery
    }

    func setAppDelivery(_ delivery: AppDelivery, now: Date) async throws {
        try await exec(
            """
            INSERT INTO tenant_app_delivery (tenant_id, delivery, updated_at) VALUES (\(tenantID), \(delivery.rawValue),
                \(now))
            ON CONFLICT (tenant_id) DO UPDATE SET delivery = excluded.delivery, updated_at = excluded.updated_at
            """
        )
    }

    func declarationPublisher() async throws -> DeclarationPublisherSettings {
        guard
            let row = try await exec(
                """
                SELECT publisher, publisher_url, publisher_key_id, publisher_key FROM tenant_app_delivery
                WHERE tenant_id = \(tenantID)
                """
            ).first
        else { return DeclarationPublisherSettings() }
        let stored: String = try row.decode("publisher")
        guard let kind = DeclarationPublisherKind(rawValue: stored) else {
            throw StoreError.unreadable("declaration publisher \(stored)")
        }
        return DeclarationPublisherSettings(
            kind: kind,
            url: try row.decode("publisher_url"),
            apiKey: try Self.sealed(row, "publisher_key_id", "publisher_key")
        )
    }

    func saveDeclarationPublisher(_ settings: DeclarationPublisherSettings, now: Date) async throws {
        let wasKMFDDM = try await declarationPublisher().kind == .kmfddm
        try await exec(
            """
            INSERT INTO tenant_app_delivery (tenant_id, publisher, publisher_url, publisher_key_id, publisher_key,
                updated_at)
            VALUES (\(tenantID), \(settings.kind.rawValue), \(settings.url), \(settings.apiKey?.keyID),
                \(settings.apiKey?.ciphertext), \(now))
            ON CONFLICT (tenant_id) DO UPDATE SET publisher = excluded.publisher,
                publisher_url = excluded.publisher_url, publisher_key_id = excluded.publisher_key_id,
                publisher_key = excluded.publisher_key, updated_at = excluded.updated_at
            """
        )
        // Status is read back only from KMFDDM: the unsettled enrollments are read from when it becomes the DDM
        // server, and no longer once it stops being it.
        let isKMFDDM = settings.kind == .kmfddm
        if isKMFDDM != wasKMFDDM { try await armUnsettledStatusPolls(reading: isKMFDDM, now: now) }
    }

    func enqueueDeclarationSetChanges(_ changes: [DeclarationSetChange]) async throws {
        // One change of each kind per licence, whichever server learns of it and however often; due at once.
        try await insertMany(
            """
            INSERT INTO declaration_set_changes (tenant_id, change_id, assignment_id, serial, adam_id, pricing,
                licence_kind, kind, next_attempt_at, created_at, client_user_id)
            """,
            rows: changes.map {
                """
                (\(tenantID), \($0.id), \($0.assignmentID), \($0.serialNumber), \($0.asset.adamID),
                \($0.asset.pricingParam), \($0.licenceKind.rawValue), \($0.kind.rawValue), \($0.createdAt),
                \($0.createdAt), \($0.clientUserID))
                """
            },
            suffix: "ON CONFLICT (tenant_id, assignment_id, kind) DO NOTHING"
        )
    }

    func joinedLicences(_ ids: [AssignmentID]) async throws -> Set<AssignmentID> {
        Set(
            try await lookupChunks(ids) { chunk in
                try await exec(
                    """
                    SELECT assignment_id FROM declaration_set_changes
                    WHERE tenant_id = \(tenantID) AND kind = 'join' AND assignment_id IN (\(list: chunk))
                    """
                ).map { row -> AssignmentID in try row.decode("assignment_id") }
            }
        )
    }

    static let changeColumns: SQLQuery = """
        change_id, assignment_id, serial, adam_id, pricing, licence_kind, kind, state, attempts, last_error,
        created_at, updated_at, device_state, device_reasons, reported_at, install_state, heal_attempts, heal_state,
        heal_error, client_user_id
        """

    func claimDueDeclarationSetChanges(
        owner: String,
        now: Date,
        lease: TimeInterval,
        limit: Int
    ) async throws -> [DeclarationSetChangeRecord] {
        // As the device-command outbox: pick (locked on PostgreSQL, skipping rows another server holds), then lease.
        let picked: [UUID] = try await exec(
            """
            SELECT change_id FROM declaration_set_changes
            WHERE tenant_id = \(tenantID) AND state = 'queued' AND next_attempt_at <= \(now)
                AND (lease_until IS NULL OR lease_until < \(now))
            ORDER BY created_at, kind, change_id LIMIT \(limit) \(unescaped: dialect.skipLocked)
            """
        ).map { try $0.decode("change_id") }
        guard !picked.isEmpty else { return [] }
        return try await exec(
            """
            UPDATE declaration_set_changes SET lease_owner = \(owner), lease_until = \(now.addingTimeInterval(lease)),
                attempts = attempts + 1
            WHERE tenant_id = \(tenantID) AND change_id IN (\(list: picked))
            RETURNING \(fragment: Self.changeColumns)
            """
        ).map(Self.changeRecord).sorted { Self.order($0.change) < Self.order($1.change) }
    }

    func finishDeclarationSetChanges(
        _ ids: [UUID],
        owner: String,
        state: DeclarationSetChangeState,
        nextAttemptAt: Date?,
        lastError: String?,
        at: Date
    ) async throws -> Int {
        var finished = 0
        for chunk in chunks(ids, of: 500) {
            finished += try await exec(
                """
                UPDATE declaration_set_changes
                SET state = \(state.rawValue), next_attempt_at = \(nextAttemptAt ?? at), last_error = \(lastError),
                    updated_at = \(at), lease_owner = NULL, lease_until = NULL
                WHERE tenant_id = \(tenantID) AND change_id IN (\(list: chunk)) AND lease_owner = \(owner)
                    AND state = 'queued'
                RETURNING change_id
                """
            ).count
        }
        return finished
    }

    func recordDeviceStatus(
        serial: String,
        asset: AssetKey,
        state: String?,
        reasons: [StatusReason],
        at: Date
    ) async throws -> Bool {
        let encoded = String(decoding: (try? JSONEncoder().encode(reasons)) ?? Data("[]".utf8), as: UTF8.self)
        // The latest join for the device and app: an earlier licence's join has been left.
        return try await !exec(
            """
            UPDATE declaration_set_changes SET device_state = \(state), device_reasons = \(encoded), reported_at = \(at)
            WHERE tenant_id = \(tenantID) AND change_id IN (\(fragment: latestJoin(serial: serial, asset: asset)))
            RETURNING change_id
            """
        ).isEmpty
    }

    func declarationSetChanges(serial: String?, limit: Int) async throws -> [DeclarationSetChangeRecord] {
        let bySerial: SQLQuery = serial.map { "AND serial = \($0)" } ?? ""
        return try await exec(
            """
            SELECT \(fragment: Self.changeColumns)
            FROM declaration_set_changes WHERE tenant_id = \(tenantID) \(fragment: bySerial)
            ORDER BY created_at, serial, kind LIMIT \(max(1, min(limit, 10_000)))
            """
        ).map(Self.changeRecord)
    }

    func queuedDeclarationSetChanges(
        after: DeviceCommandCursor?,
        limit: Int
    ) async throws
        -> [DeclarationSetChangeRecord]
    {
        let from: SQLQuery =
            after.map { cursor -> SQLQuery in
                let at = cursor.createdAtMilliseconds
                return "AND (created_at > \(at) OR (created_at = \(at) AND change_id > \(cursor.id)))"
            } ?? ""
        return try await exec(
            """
            SELECT \(fragment: Self.changeColumns)
            FROM declaration_set_changes WHERE tenant_id = \(tenantID) AND state = 'queued' \(fragment: from)
            ORDER BY created_at, change_id LIMIT \(max(1, min(limit, 1000)))
            """
        ).map(Self.changeRecord)
    }

    func completeDeclarationSetChange(
        _ id: UUID,
        state: DeclarationSetChangeState,
        lastError: String?,
        at: Date
    )
        async throws -> DeclarationSetChangeRecord?
    {
        try await exec(
            """
            UPDATE declaration_set_changes SET state = \(state.rawValue), last_error = \(lastError), updated_at = \(at),
                lease_owner = NULL, lease_until = NULL
            WHERE tenant_id = \(tenantID) AND change_id = \(id) AND state = 'queued'
            """
        )
        return try await exec(
            """
            SELECT \(fragment: Self.changeColumns) FROM declaration_set_changes
            WHERE tenant_id = \(tenantID) AND change_id = \(id)
            """
        ).first.map(Self.changeRecord)
    }

    /// Oldest first; of two made at once, the join before the leave.
    static func order(_ change: DeclarationSetChange) -> (Date, Int, String) {
        (change.createdAt, change.kind == .join ? 0 : 1, change.id.uuidString)
    }

    static func changeRecord(_ row: SQLRow) throws -> DeclarationSetChangeRecord {
        let licence: String = try row.decode("licence_kind"), kind: String = try row.decode("kind")
        let state: String = try row.decode("state")
        guard let licenceKind = LicenceAssignmentKind(rawValue: licence),
            let changeKind = DeclarationSetChange.Kind(rawValue: kind),
            let changeState = DeclarationSetChangeState(rawValue: state)
        else { throw StoreError.unreadable("declaration set change \(licence)/\(kind)/\(state)") }
        let change = DeclarationSetChange(
            id: try row.decode("change_id"),
            serialNumber: try row.decode("serial"),
            asset: try row.assetKey(),
            licenceKind: licenceKind,
            kind: changeKind,
            assignmentID: try row.decode("assignment_id"),
            createdAt: try row.decode("created_at"),
            clientUserID: try row.decode("client_user_id", as: ClientUserID?.self)
        )
        let reasons: String? = try row.decode("device_reasons")
        let install: String? = try row.decode("install_state"), heal: String? = try row.decode("heal_state")
        var record = DeclarationSetChangeRecord(
            change: change,
            state: changeState,
            attempts: try row.decode("attempts"),
            lastError: try row.decode("last_error"),
            updatedAt: try row.decode("updated_at"),
            deviceState: try row.decode("device_state"),
            deviceReasons: reasons.flatMap { try? JSONDecoder().decode([StatusReason].self, from: Data($0.utf8)) }
                ?? [],
            reportedAt: try row.decode("reported_at")
        )
        record.installState = install.flatMap(DeviceCommandState.init(rawValue:))
        record.healAttempts = try row.decode("heal_attempts")
        record.healStep = heal.flatMap(HealStep.init(rawValue:))
        record.healError = try row.decode("heal_error")
        return record
    }
}
