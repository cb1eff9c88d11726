import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction {
    /// A join (alias `j`) whose device has not settled it: joined at the DDM server, not left, and its install
    /// neither `verified` nor `failed` (a heal under way leaves it `error`).
    static let unsettledJoin: SQLQuery = """
        j.kind = 'join' AND j.state = 'done'
            AND (j.install_state IS NULL OR j.install_state NOT IN ('verified', 'failed'))
            AND NOT EXISTS (SELECT 1 FROM declaration_set_changes l WHERE l.tenant_id = j.tenant_id
                AND l.assignment_id = j.assignment_id AND l.kind = 'leave')
        """

    func linkedUser(enrollmentID: String) async throws -> ClientUserID? {
        try await exec(
            """
            SELECT client_user_id FROM managed_users WHERE tenant_id = \(tenantID) AND enrollment_id = \(enrollmentID)
            ORDER BY client_user_id LIMIT 1
            """
        ).first.map { try $0.decode("client_user_id") }
    }

    /// True while the tenant's DDM server is KMFDDM: status is read back only from KMFDDM, so only then is a poll
    /// armed (rows armed under another publisher stayed due for good, and every background pass walked them).
    static let readsFromKMFDDM: SQLQuery = """
        EXISTS (SELECT 1 FROM tenant_app_delivery t WHERE t.tenant_id = wanted.tenant_id AND t.publisher = 'kmfddm')
        """

    func armStatusPolls(enrollmentIDs: [String], at: Date) async throws {
        // One statement per chunk (a delivery batch of 10,000 joins was 10,000 upserts).
        for chunk in chunks(Set(enrollmentIDs).sorted(), of: 1_000) {
            let rows = SQLQuery.joined(chunk.map { "(\($0))" }, separator: ", ")
            try await exec(
                """
                INSERT INTO declaration_status_polls (tenant_id, enrollment_id, next_poll_at, idle)
                SELECT wanted.tenant_id, wanted.enrollment_id, \(at), 0 FROM (
                    SELECT \(tenantID) AS tenant_id, column1 AS enrollment_id FROM (VALUES \(fragment: rows)) AS ids
                ) AS wanted
                WHERE \(fragment: Self.readsFromKMFDDM)
                ON CONFLICT (tenant_id, enrollment_id) DO UPDATE SET next_poll_at = excluded.next_poll_at, idle = 0
                """
            )
        }
    }

    /// Arms (`reading`) or disarms every enrollment with an unsettled join: the tenant's DDM server became KMFDDM,
    /// or stopped being it.
    func armUnsettledStatusPolls(reading: Bool, now: Date) async throws {
        guard reading else {
            try await exec(
                """
                UPDATE declaration_status_polls SET next_poll_at = NULL
                WHERE tenant_id = \(tenantID) AND next_poll_at IS NOT NULL
                """
            )
            return
        }
        try await armEnrollments(
            ofJoins: Self.unsettledJoin,
            usersOnly: "j.licence_kind = 'User' AND \(fragment: Self.unsettledJoin)",
            now: now
        )
    }

    func claimDueStatusPolls(now: Date, lease: TimeInterval, limit: Int) async throws -> [DeclarationStatusPoll] {
        // As the outboxes: pick (locked on PostgreSQL, skipping rows another server holds), then move past the lease.
        let picked: [String] = try await exec(
            """
            SELECT enrollment_id FROM declaration_status_polls
            WHERE tenant_id = \(tenantID) AND next_poll_at IS NOT NULL AND next_poll_at <= \(now)
            ORDER BY next_poll_at, enrollment_id LIMIT \(limit) \(unescaped: dialect.skipLocked)
            """
        ).map { try $0.decode("enrollment_id") }
        guard !picked.isEmpty else { return [] }
        let claimed = try await exec(
            """
            UPDATE declaration_status_polls SET next_poll_at = \(now.addingTimeInterval(lease))
            WHERE tenant_id = \(tenantID) AND enrollment_id IN (\(list: picked))
            RETURNING enrollment_id, idle, last_report
            """
        )
        // The oldest unsettled join of each enrollment: a report KMFDDM kept from before it says nothing about it.
        var since: [String: Date] = [:]
        for row in try await exec(
            """
            SELECT d.enrollment_id, MIN(j.updated_at) AS since FROM declaration_set_changes j
            JOIN devices d ON d.tenant_id = j.tenant_id AND d.serial = j.serial
            WHERE j.tenant_id = \(tenantID) AND d.enrollment_id IN (\(list: picked)) AND \(fragment: Self.unsettledJoin)
            GROUP BY d.enrollment_id
            UNION ALL
            SELECT u.enrollment_id, MIN(j.updated_at) AS since FROM declaration_set_changes j
            JOIN managed_users u ON u.tenant_id = j.tenant_id AND u.client_user_id = j.client_user_id
            WHERE j.tenant_id = \(tenantID) AND u.enrollment_id IN (\(list: picked)) AND j.licence_kind = 'User'
                AND \(fragment: Self.unsettledJoin)
            GROUP BY u.enrollment_id
            """
        ) {
            let id: String = try row.decode("enrollment_id")
            if let date = try row.decode("since", as: Date?.self) { since[id] = min(date, since[id] ?? date) }
        }
        return try claimed.map { row in
            let id: String = try row.decode("enrollment_id")
            return DeclarationStatusPoll(
                enrollmentID: id,
                idle: try row.decode("idle"),
                lastReport: try row.decode("last_report"),
                notBefore: since[id]
            )
        }.sorted { $0.enrollmentID < $1.enrollmentID }
    }

    func finishStatusPoll(
        enrollmentID: String,
        lastReport: String?,
        idle: Int,
        error: String?,
        next: Date,
        now: Date
    ) async throws -> Bool {
        let open = try await !exec(
            """
            SELECT j.change_id FROM declaration_set_changes j
            JOIN devices d ON d.tenant_id = j.tenant_id AND d.serial = j.serial
            WHERE j.tenant_id = \(tenantID) AND d.enrollment_id = \(enrollmentID) AND \(fragment: Self.unsettledJoin)
            UNION ALL
            SELECT j.change_id FROM declaration_set_changes j
            JOIN managed_users u ON u.tenant_id = j.tenant_id AND u.client_user_id = j.client_user_id
            WHERE j.tenant_id = \(tenantID) AND u.enrollment_id = \(enrollmentID) AND j.licence_kind = 'User'
                AND \(fragment: Self.unsettledJoin)
            LIMIT 1
            """
        ).isEmpty
        try await exec(
            """
            UPDATE declaration_status_polls SET next_poll_at = \(open ? next : nil), idle = \(idle),
                last_report = \(lastReport), last_error = \(error.map { String($0.prefix(500)) }), polled_at = \(now)
            WHERE tenant_id = \(tenantID) AND enrollment_id = \(enrollmentID)
            """
        )
        return open
    }

    /// The enrollments of the joins waiting for a re-publication of the declaration: read their status soon.
    func armRepublishedPolls(asset: AssetKey, kind: LicenceAssignmentKind, now: Date) async throws {
        let republishing: SQLQuery = """
            \(fragment: asset.matches("j")) AND j.licence_kind = \(kind.rawValue) AND j.kind = 'join'
                AND j.heal_state = 'republishing'
            """
        try await armEnrollments(ofJoins: republishing, usersOnly: republishing, now: now)
    }

    /// Arms, while the DDM server is KMFDDM, the enrollments of the joins (alias `j`) `condition` selects: the
    /// devices' enrollments, and those of the users whose joins `usersOnly` selects (a user licence's `User`
    /// declaration goes to the user's own enrollment).
    private func armEnrollments(ofJoins condition: SQLQuery, usersOnly: SQLQuery, now: Date) async throws {
        try await exec(
            """
            INSERT INTO declaration_status_polls (tenant_id, enrollment_id, next_poll_at, idle)
            SELECT wanted.tenant_id, wanted.enrollment_id, \(now), 0 FROM (
                SELECT DISTINCT d.tenant_id, d.enrollment_id FROM declaration_set_changes j
                JOIN devices d ON d.tenant_id = j.tenant_id AND d.serial = j.serial
                WHERE j.tenant_id = \(tenantID) AND d.enrollment_id IS NOT NULL AND \(fragment: condition)
                UNION
                SELECT DISTINCT u.tenant_id, u.enrollment_id FROM declaration_set_changes j
                JOIN managed_users u ON u.tenant_id = j.tenant_id AND u.client_user_id = j.client_user_id
                WHERE j.tenant_id = \(tenantID) AND u.enrollment_id IS NOT NULL AND \(fragment: usersOnly)
            ) AS wanted
            WHERE \(fragment: Self.readsFromKMFDDM)
            ON CONFLICT (tenant_id, enrollment_id) DO UPDATE SET next_poll_at = excluded.next_poll_at, idle = 0
            """
        )
    }
}
