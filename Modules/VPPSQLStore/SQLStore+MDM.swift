import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction: MDMRecords {
    // MARK: Connection

    func saveMDMConnection(_ stored: StoredMDMConnection) async throws {
        let c = stored.connection
        let s = stored.secrets
        try await exec(
            """
            INSERT INTO mdm_connections (tenant_id, kind, url, api_key_id, api_key, hmac_key_id, hmac_key, signing_key_id, signing_secret,
                reclaim_after, silent_days, licence_only, licence_only_apps, disabled_reason, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (tenant_id) DO UPDATE SET kind = excluded.kind, url = excluded.url, api_key_id = excluded.api_key_id,
                api_key = excluded.api_key, hmac_key_id = excluded.hmac_key_id, hmac_key = excluded.hmac_key,
                signing_key_id = excluded.signing_key_id, signing_secret = excluded.signing_secret, reclaim_after = excluded.reclaim_after,
                silent_days = excluded.silent_days, licence_only = excluded.licence_only, licence_only_apps = excluded.licence_only_apps,
                disabled_reason = excluded.disabled_reason, updated_at = excluded.updated_at
            """,
            [tenant, .text(c.kind.rawValue), .text(c.url)] + Self.sealed(s.apiKey) + Self.sealed(s.webhookHMACKey)
                + Self.sealed(s.signingSecret)
                + [
                    .int(Int64(c.reclaimAfter)), .optional(c.silentDaysUnenrolled.map(Int64.init)),
                    .bool(c.licenceOnly),
                    JSONList.encode(c.licenceOnlyAdamIDs.sorted()), .optional(c.disabledReason), .time(c.updatedAt),
                ])
    }

    static func sealed(_ secret: SealedSecret?) -> [SQLValue] {
        guard let secret else { return [.null, .null] }
        return [.text(secret.keyID), .blob(secret.ciphertext)]
    }

    static func sealed(_ row: SQLRow, _ i: Int) throws -> SealedSecret? {
        row.isNull(i) ? nil : SealedSecret(keyID: try row.text(i), ciphertext: try row.blob(i + 1))
    }

    func mdmConnection() async throws -> StoredMDMConnection? {
        try await exec(
            """
            SELECT kind, url, api_key_id, api_key, hmac_key_id, hmac_key, signing_key_id, signing_secret, reclaim_after, silent_days,
                licence_only, licence_only_apps, disabled_reason, updated_at
            FROM mdm_connections WHERE tenant_id = ?
            """, [tenant]
        ).first.map { row in
            let stored = try row.text(0)
            guard let kind = MDMKind(rawValue: stored) else { throw StoreError.unreadable("MDM kind \(stored)") }
            let connection = MDMConnection(
                kind: kind, url: try row.text(1), reclaimAfter: TimeInterval(try row.int(8)),
                silentDaysUnenrolled: try row.optionalInt(9),
                licenceOnly: try row.bool(10), licenceOnlyAdamIDs: Set(JSONList.decode(try row.optionalText(11))),
                disabledReason: try row.optionalText(12), updatedAt: try row.time(13))
            return StoredMDMConnection(
                connection: connection,
                secrets: MDMSealedSecrets(
                    apiKey: try Self.sealed(row, 2), webhookHMACKey: try Self.sealed(row, 4),
                    signingSecret: try Self.sealed(row, 6)))
        }
    }

    func disableMDMConnection(reason: String) async throws {
        try await exec("UPDATE mdm_connections SET disabled_reason = ? WHERE tenant_id = ?", [.text(reason), tenant])
    }

    // MARK: Device commands

    static let commandColumns = """
        command_id, serial, kind, adam_id, assignment_id, created_at, state, attempts, next_attempt_at, last_error, delivered_at,
        updated_at, enrollment_id
        """

    static func commandRecord(_ row: SQLRow) throws -> DeviceCommandRecord {
        let storedKind = try row.text(2)
        let storedState = try row.text(6)
        guard let kind = DeviceCommand.Kind(rawValue: storedKind) else {
            throw StoreError.unreadable("device command kind \(storedKind)")
        }
        guard let state = DeviceCommandState(rawValue: storedState) else {
            throw StoreError.unreadable("device command state \(storedState)")
        }
        let command = DeviceCommand(
            id: try row.uuid(0), serialNumber: try row.text(1), kind: kind, adamID: try row.text(3),
            assignmentID: try row.optionalUUID(4).map(AssignmentID.init), createdAt: try row.time(5))
        return DeviceCommandRecord(
            command: command, state: state, attempts: try row.int(7), nextAttemptAt: try row.optionalTime(8),
            lastError: try row.optionalText(9), deliveredAt: try row.optionalTime(10),
            updatedAt: try row.optionalTime(11), enrollmentID: try row.optionalText(12))
    }

    func claimDueDeviceCommands(
        owner: String, now: Date, lease: TimeInterval, limit: Int
    ) async throws -> [DeviceCommandRecord] {
        // Two statements in one transaction: the rows picked are locked (PostgreSQL) until it ends, and a LIMIT
        // inside `IN (…)` is not guaranteed to be evaluated once by PostgreSQL's planner.
        let picked = try await exec(
            """
            SELECT command_id FROM device_commands
            WHERE tenant_id = ? AND state = 'queued' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)
            ORDER BY created_at, command_id LIMIT ? \(dialect.skipLocked)
            """, [tenant, .time(now), .time(now), .int(Int64(limit))]
        ).map { try $0.uuid(0) }
        guard !picked.isEmpty else { return [] }
        return try await exec(
            """
            UPDATE device_commands SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
            WHERE tenant_id = ? AND command_id IN (\(picked.map { _ in "?" }.joined(separator: ", ")))
            RETURNING \(Self.commandColumns)
            """,
            [.text(owner), .time(now.addingTimeInterval(lease)), tenant] + picked.map { .uuid($0) }
        ).map(Self.commandRecord).sorted {
            ($0.command.createdAt, $0.command.id.uuidString) < ($1.command.createdAt, $1.command.id.uuidString)
        }
    }

    func finishDelivery(_ id: UUID, owner: String, _ update: DeviceCommandUpdate, at: Date) async throws -> Bool {
        try await !exec(
            """
            UPDATE device_commands SET state = ?, next_attempt_at = ?, last_error = ?, delivered_at = ?, enrollment_id = ?, updated_at = ?,
                lease_owner = NULL, lease_until = NULL
            WHERE tenant_id = ? AND command_id = ? AND lease_owner = ? AND state = 'queued' RETURNING command_id
            """,
            [
                .text(update.state.rawValue), .time(update.nextAttemptAt ?? at), .optional(update.lastError),
                .optionalTime(update.deliveredAt),
                .optional(update.enrollmentID), .time(at), tenant, .uuid(id), .text(owner),
            ]
        ).isEmpty
    }

    func updateDeviceCommand(_ id: UUID, _ update: DeviceCommandUpdate, at: Date) async throws -> Bool {
        var sets = "state = ?, updated_at = ?, last_error = ?"
        var binds: [SQLValue] = [.text(update.state.rawValue), .time(at), .optional(update.lastError)]
        if let delivered = update.deliveredAt {
            sets += ", delivered_at = ?"
            binds.append(.time(delivered))
        }
        if let next = update.nextAttemptAt {
            sets += ", next_attempt_at = ?"
            binds.append(.time(next))
        }
        if let enrollment = update.enrollmentID {
            sets += ", enrollment_id = ?"
            binds.append(.text(enrollment))
        }
        return try await !exec(
            "UPDATE device_commands SET \(sets) WHERE tenant_id = ? AND command_id = ? RETURNING command_id",
            binds + [tenant, .uuid(id)]
        ).isEmpty
    }

    func deviceCommandRecords(_ query: DeviceCommandQuery) async throws -> [DeviceCommandRecord] {
        var conditions = ["tenant_id = ?"]
        var binds: [SQLValue] = [tenant]
        if let serial = query.serialNumber {
            conditions.append("serial = ?")
            binds.append(.text(serial))
        }
        if let states = query.states, !states.isEmpty {
            conditions.append("state IN (" + states.map { _ in "?" }.joined(separator: ", ") + ")")
            binds += states.map { .text($0.rawValue) }.sorted { "\($0)" < "\($1)" }
        }
        if let after = query.after {
            conditions.append("(created_at > ? OR (created_at = ? AND command_id > ?))")
            binds += [.int(after.createdAtMilliseconds), .int(after.createdAtMilliseconds), .uuid(after.id)]
        }
        return try await exec(
            "SELECT \(Self.commandColumns) FROM device_commands WHERE \(conditions.joined(separator: " AND ")) ORDER BY created_at, command_id LIMIT ?",
            binds + [.int(Int64(query.limit))]
        ).map(Self.commandRecord)
    }

    func deviceCommandRecord(_ id: UUID) async throws -> DeviceCommandRecord? {
        try await exec(
            "SELECT \(Self.commandColumns) FROM device_commands WHERE tenant_id = ? AND command_id = ?",
            [tenant, .uuid(id)]
        )
        .first.map(Self.commandRecord)
    }

    func deviceCommandCounts() async throws -> [DeviceCommandState: Int] {
        var counts: [DeviceCommandState: Int] = [:]
        for row in try await exec(
            "SELECT state, count(*) FROM device_commands WHERE tenant_id = ? GROUP BY state", [tenant])
        {
            let stored = try row.text(0)
            guard let state = DeviceCommandState(rawValue: stored) else {
                throw StoreError.unreadable("device command state \(stored)")
            }
            counts[state] = try row.int(1)
        }
        return counts
    }

    // MARK: Devices as the MDM reports them

    func saveEnrollment(_ serial: SerialNumber, _ e: MDMEnrollment) async throws {
        try await exec(
            """
            INSERT INTO devices (tenant_id, serial, installed, retired, enrollment_state, enrollment_id, model, os_version, platform,
                last_seen_at, unenrolled_at)
            VALUES (?, ?, '[]', false, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (tenant_id, serial) DO UPDATE SET enrollment_state = excluded.enrollment_state,
                enrollment_id = excluded.enrollment_id, model = excluded.model, os_version = excluded.os_version,
                platform = excluded.platform, last_seen_at = excluded.last_seen_at, unenrolled_at = excluded.unenrolled_at,
                reclaimed_at = NULL
            """,
            [
                tenant, .text(serial.value), .text(e.state.rawValue), .optional(e.enrollmentID), .optional(e.model),
                .optional(e.osVersion),
                .text(e.platform.rawValue), .optionalTime(e.lastSeenAt), .optionalTime(e.unenrolledAt),
            ])
    }

    func mdmDevice(serial: SerialNumber) async throws -> Device? { try await device(serial) }

    func device(enrollmentID: String) async throws -> Device? {
        try await exec(
            """
            SELECT \(fragment: Self.deviceColumns) FROM devices WHERE tenant_id = \(tenantID) AND enrollment_id = \(enrollmentID)
            ORDER BY last_seen_at DESC
            """
        ).first.flatMap(device(from:))
    }

    func setInstalledApps(_ serial: SerialNumber, adamIDs: Set<String>, seenAt: Date) async throws {
        try await exec(
            "UPDATE devices SET installed = ?, last_seen_at = ? WHERE tenant_id = ? AND serial = ?",
            [JSONList.encode(adamIDs.sorted()), .time(seenAt), tenant, .text(serial.value)])
    }

    func devicesDueForReclaim(unenrolledBefore cutoff: Date) async throws -> [Device] {
        try await devices(
            where: "enrollment_state = 'unenrolled' AND unenrolled_at <= \(cutoff) AND reclaimed_at IS NULL")
    }

    func markReclaimed(_ serial: SerialNumber, at: Date) async throws {
        try await exec(
            "UPDATE devices SET reclaimed_at = ? WHERE tenant_id = ? AND serial = ?",
            [.time(at), tenant, .text(serial.value)])
    }

    func unenrollSilentDevices(lastSeenBefore cutoff: Date, now: Date) async throws -> [SerialNumber] {
        try await exec(
            """
            UPDATE devices SET enrollment_state = 'unenrolled', unenrolled_at = ?
            WHERE tenant_id = ? AND enrollment_state = 'enrolled' AND last_seen_at < ? RETURNING serial
            """, [.time(now), tenant, .time(cutoff)]
        ).compactMap { try? SerialNumber(try $0.text(0)) }
    }

    // MARK: MDM webhook events

    func recordMDMEvent(_ event: MDMEventRecord) async throws -> MDMEventState {
        let inserted = try await !exec(
            """
            INSERT INTO mdm_events (tenant_id, event_id, received_at, topic, dedupe_key, body, state, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (tenant_id, dedupe_key) DO NOTHING RETURNING event_id
            """,
            [
                tenant, .uuid(event.id), .time(event.receivedAt), .text(event.topic), .text(event.dedupeKey),
                .text(event.body),
                .text(event.state.rawValue), .text(event.detail),
            ]
        ).isEmpty
        if inserted { return event.state }
        // A repeat: kept for the record (no dedupe key, so it collides with nothing), never processed.
        try await exec(
            "INSERT INTO mdm_events (tenant_id, event_id, received_at, topic, dedupe_key, body, state, detail) VALUES (?, ?, ?, ?, NULL, ?, ?, ?)",
            [
                tenant, .uuid(event.id), .time(event.receivedAt), .text(event.topic), .text(event.body),
                .text(MDMEventState.duplicate.rawValue),
                .text("repeat of \(event.dedupeKey)"),
            ])
        return .duplicate
    }

    static func event(_ row: SQLRow) throws -> MDMEventRecord {
        let stored = try row.text(6)
        guard let state = MDMEventState(rawValue: stored) else {
            throw StoreError.unreadable("MDM event state \(stored)")
        }
        return MDMEventRecord(
            id: try row.uuid(0), receivedAt: try row.time(1), topic: try row.text(2),
            dedupeKey: try row.optionalText(3) ?? "", body: try row.text(4), state: state, detail: try row.text(5))
    }

    func pendingMDMEvents(limit: Int) async throws -> [MDMEventRecord] {
        try await exec(
            """
            SELECT event_id, received_at, topic, dedupe_key, body, detail, state FROM mdm_events
            WHERE tenant_id = ? AND state = 'pending' ORDER BY received_at, event_id LIMIT ? \(dialect.skipLocked)
            """, [tenant, .int(Int64(limit))]
        ).map(Self.event)
    }

    func markMDMEvent(_ id: UUID, _ state: MDMEventState, detail: String) async throws {
        try await exec(
            "UPDATE mdm_events SET state = ?, detail = ? WHERE tenant_id = ? AND event_id = ?",
            [.text(state.rawValue), .text(String(detail.prefix(500))), tenant, .uuid(id)])
    }

    func mdmEvents(limit: Int) async throws -> [MDMEventRecord] {
        try await exec(
            """
            SELECT event_id, received_at, topic, dedupe_key, body, detail, state FROM mdm_events
            WHERE tenant_id = ? ORDER BY received_at DESC, event_id LIMIT ?
            """, [tenant, .int(Int64(limit))]
        ).map(Self.event)
    }
}

extension SQLStore: MDMDirectory {
    public func tenantsWithMDMWork(now: Date) async throws -> [TenantID] {
        try await run { connection in
            try await connection.query(
                """
                SELECT DISTINCT tenant_id FROM device_commands WHERE state = 'queued' AND next_attempt_at <= ?
                    AND (lease_until IS NULL OR lease_until < ?)
                UNION SELECT DISTINCT tenant_id FROM mdm_events WHERE state = 'pending'
                """, .time(now), .time(now)
            ).map { TenantID(try $0.uuid(0)) }
        }
    }

    public func tenantsWithMDMConnection() async throws -> [TenantID] {
        try await run { connection in
            try await connection.query("SELECT tenant_id FROM mdm_connections ORDER BY tenant_id").map {
                TenantID(try $0.uuid(0))
            }
        }
    }
}
