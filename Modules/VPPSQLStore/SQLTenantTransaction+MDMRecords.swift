import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction: MDMRecords {
    func saveMDMConnection(_ stored: StoredMDMConnection) async throws {
        let c = stored.connection
        let s = stored.secrets
        try await exec(
            """
            INSERT INTO mdm_connections (tenant_id, kind, url, api_key_id, api_key, hmac_key_id, hmac_key,
                signing_key_id, signing_secret, reclaim_after, silent_days, licence_only, licence_only_apps,
                disabled_reason, updated_at)
            VALUES (\(tenantID), \(c.kind.rawValue), \(c.url), \(s.apiKey?.keyID), \(s.apiKey?.ciphertext),
                \(s.webhookHMACKey?.keyID), \(s.webhookHMACKey?.ciphertext), \(s.signingSecret?.keyID),
                \(s.signingSecret?.ciphertext), \(Int64(c.reclaimAfter)), \(c.silentDaysUnenrolled), \(c.licenceOnly),
                \(JSONList.encode(c.licenceOnlyAdamIDs.sorted())), \(c.disabledReason), \(c.updatedAt))
            ON CONFLICT (tenant_id) DO UPDATE SET kind = excluded.kind, url = excluded.url,
                api_key_id = excluded.api_key_id, api_key = excluded.api_key, hmac_key_id = excluded.hmac_key_id,
                hmac_key = excluded.hmac_key, signing_key_id = excluded.signing_key_id,
                signing_secret = excluded.signing_secret, reclaim_after = excluded.reclaim_after,
                silent_days = excluded.silent_days, licence_only = excluded.licence_only,
                licence_only_apps = excluded.licence_only_apps, disabled_reason = excluded.disabled_reason,
                updated_at = excluded.updated_at
            """
        )
    }

    /// The sealed secret in the `keyColumn`/`secretColumn` pair; nil when the key id is NULL.
    static func sealed(_ row: SQLRow, _ keyColumn: String, _ secretColumn: String) throws -> SealedSecret? {
        guard let keyID = try row.decode(keyColumn, as: String?.self) else { return nil }
        return SealedSecret(keyID: keyID, ciphertext: try row.decode(secretColumn))
    }

    func mdmConnection() async throws -> StoredMDMConnection? {
        try await exec(
            """
            SELECT kind, url, api_key_id, api_key, hmac_key_id, hmac_key, signing_key_id, signing_secret, reclaim_after,
                silent_days, licence_only, licence_only_apps, disabled_reason, updated_at
            FROM mdm_connections WHERE tenant_id = \(tenantID)
            """
        ).first.map { row in
            let stored: String = try row.decode("kind")
            guard let kind = MDMKind(rawValue: stored) else { throw StoreError.unreadable("MDM kind \(stored)") }
            let connection = MDMConnection(
                kind: kind,
                url: try row.decode("url"),
                reclaimAfter: TimeInterval(try row.decode("reclaim_after", as: Int.self)),
                silentDaysUnenrolled: try row.decode("silent_days"),
                licenceOnly: try row.decode("licence_only"),
                licenceOnlyAdamIDs: Set(JSONList.decode(try row.decode("licence_only_apps"))),
                disabledReason: try row.decode("disabled_reason"),
                updatedAt: try row.decode("updated_at")
            )
            return StoredMDMConnection(
                connection: connection,
                secrets: MDMSealedSecrets(
                    apiKey: try Self.sealed(row, "api_key_id", "api_key"),
                    webhookHMACKey: try Self.sealed(row, "hmac_key_id", "hmac_key"),
                    signingSecret: try Self.sealed(row, "signing_key_id", "signing_secret")
                )
            )
        }
    }

    func disableMDMConnection(reason: String) async throws {
        try await exec("UPDATE mdm_connections SET disabled_reason = \(reason) WHERE tenant_id = \(tenantID)")
    }

    func saveEnrollment(_ serial: SerialNumber, _ e: MDMEnrollment) async throws {
        try await exec(
            """
            INSERT INTO devices (tenant_id, serial, installed, retired, enrollment_state, enrollment_id, model,
                os_version, platform, last_seen_at, unenrolled_at)
            VALUES (\(tenantID), \(serial), '[]', false, \(e.state.rawValue), \(e.enrollmentID), \(e.model),
                \(e.osVersion), \(e.platform.rawValue), \(e.lastSeenAt), \(e.unenrolledAt))
            ON CONFLICT (tenant_id, serial) DO UPDATE SET enrollment_state = excluded.enrollment_state,
                enrollment_id = excluded.enrollment_id, model = excluded.model, os_version = excluded.os_version,
                platform = excluded.platform, last_seen_at = excluded.last_seen_at,
                unenrolled_at = excluded.unenrolled_at, reclaimed_at = NULL
            """
        )
    }

    func mdmDevice(serial: SerialNumber) async throws -> Device? { try await device(serial) }

    func device(enrollmentID: String) async throws -> Device? {
        try await exec(
            """
            SELECT \(fragment: Self.deviceColumns) FROM devices
            WHERE tenant_id = \(tenantID) AND enrollment_id = \(enrollmentID) ORDER BY last_seen_at DESC
            """
        ).first.flatMap(device(from:))
    }

    func setInstalledApps(_ serial: SerialNumber, adamIDs: Set<String>, seenAt: Date) async throws {
        try await exec(
            """
            UPDATE devices SET installed = \(JSONList.encode(adamIDs.sorted())), last_seen_at = \(seenAt)
            WHERE tenant_id = \(tenantID) AND serial = \(serial)
            """
        )
    }

    func devicesDueForReclaim(unenrolledBefore cutoff: Date) async throws -> [Device] {
        try await devices(
            where: "enrollment_state = 'unenrolled' AND unenrolled_at <= \(cutoff) AND reclaimed_at IS NULL"
        )
    }

    func markReclaimed(_ serial: SerialNumber, at: Date) async throws {
        try await exec("UPDATE devices SET reclaimed_at = \(at) WHERE tenant_id = \(tenantID) AND serial = \(serial)")
    }

    func unenrollSilentDevices(lastSeenBefore cutoff: Date, now: Date) async throws -> [SerialNumber] {
        try await exec(
            """
            UPDATE devices SET enrollment_state = 'unenrolled', unenrolled_at = \(now)
            WHERE tenant_id = \(tenantID) AND enrollment_state = 'enrolled' AND last_seen_at < \(cutoff)
            RETURNING serial
            """
        ).compactMap { try? $0.decode("serial", as: SerialNumber.self) }
    }

    func recordMDMEvent(_ event: MDMEventRecord) async throws -> MDMEventState {
        let inserted = try await !exec(
            """
            INSERT INTO mdm_events (tenant_id, event_id, received_at, topic, dedupe_key, body, state, detail)
            VALUES (\(tenantID), \(event.id), \(event.receivedAt), \(event.topic), \(event.dedupeKey), \(event.body),
                \(event.state.rawValue), \(event.detail))
            ON CONFLICT (tenant_id, dedupe_key) DO NOTHING RETURNING event_id
            """
        ).isEmpty
        // A repeat is not stored again: replaying one signed event cannot fill the disk.
        return inserted ? event.state : .duplicate
    }

    func pruneMDMEvents(receivedBefore cutoff: Date, limit: Int) async throws -> Int {
        // A bounded batch, oldest first, through the (state, received_at) index: a large backlog is pruned over
        // several runs instead of in one long transaction.
        try await exec(
            """
            DELETE FROM mdm_events WHERE tenant_id = \(tenantID) AND event_id IN (
                SELECT event_id FROM mdm_events
                WHERE tenant_id = \(tenantID) AND state IN ('processed', 'ignored', 'duplicate')
                    AND received_at < \(cutoff)
                ORDER BY received_at LIMIT \(limit))
            RETURNING event_id
            """
        ).count
    }

    /// Events matching `condition`, in `order`.
    private func events(
        where condition: SQLQuery,
        order: SQLQuery,
        limit: Int,
        lock: String = ""
    ) async throws
        -> [MDMEventRecord]
    {
        try await exec(
            """
            SELECT event_id, received_at, topic, dedupe_key, body, detail, state FROM mdm_events
            WHERE tenant_id = \(tenantID) AND \(fragment: condition) ORDER BY \(fragment: order) LIMIT \(limit)
            \(unescaped: lock)
            """
        ).map { row in
            let stored: String = try row.decode("state")
            guard let state = MDMEventState(rawValue: stored) else {
                throw StoreError.unreadable("MDM event state \(stored)")
            }
            return MDMEventRecord(
                id: try row.decode("event_id"),
                receivedAt: try row.decode("received_at"),
                topic: try row.decode("topic"),
                dedupeKey: try row.decode("dedupe_key") ?? "",
                body: try row.decode("body"),
                state: state,
                detail: try row.decode("detail")
            )
        }
    }

    func pendingMDMEvents(limit: Int) async throws -> [MDMEventRecord] {
        // Locked, and waited for: never SKIP LOCKED. A device's events must be handled in order, and two event jobs
        // of a tenant can run at once (a burst keeps one busy past its window). Skipping the batch another job holds
        // took the TokenUpdates behind it while their Authenticates were still uncommitted in that batch: each was
        // ignored as "no Authenticate seen", and its device stayed `enrolling` (116 of 1,000 in a benchmark). Waiting
        // makes the second job take what is left once the first commits (SQLite serialises transactions anyway).
        try await events(
            where: "state = 'pending'",
            order: "received_at, event_id",
            limit: limit,
            lock: dialect.forUpdate
        )
    }

    func markMDMEvent(_ id: UUID, _ state: MDMEventState, detail: String) async throws {
        try await exec(
            """
            UPDATE mdm_events SET state = \(state.rawValue), detail = \(String(detail.prefix(500)))
            WHERE tenant_id = \(tenantID) AND event_id = \(id)
            """
        )
    }

    func mdmEvents(limit: Int) async throws -> [MDMEventRecord] {
        try await events(where: "true", order: "received_at DESC, event_id", limit: limit)
    }
}
