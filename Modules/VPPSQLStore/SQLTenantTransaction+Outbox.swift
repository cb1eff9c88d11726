import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction {
    func enqueueDeviceCommands(_ commands: [DeviceCommand]) async throws {
        // One command of each kind per licence, whichever server learns of it and however often; due from its creation.
        try await insertMany(
            """
            INSERT INTO device_commands (tenant_id, command_id, serial, kind, adam_id, assignment_id, created_at,
                next_attempt_at)
            """,
            rows: commands.map {
                """
                (\(tenantID), \($0.id), \($0.serialNumber), \($0.kind.rawValue), \($0.adamID), \($0.assignmentID),
                \($0.createdAt), \($0.createdAt))
                """
            },
            suffix: "ON CONFLICT (tenant_id, assignment_id, kind) DO NOTHING"
        )
    }

    func deviceCommands() async throws -> [DeviceCommand] {
        try await exec(
            """
            SELECT command_id, serial, kind, adam_id, assignment_id, created_at FROM device_commands
            WHERE tenant_id = \(tenantID) ORDER BY created_at, serial
            """
        ).map { row in
            let stored: String = try row.decode("kind")
            guard let kind = DeviceCommand.Kind(rawValue: stored) else {
                throw StoreError.unreadable("device command \(stored)")
            }
            return DeviceCommand(
                id: try row.decode("command_id"),
                serialNumber: try row.decode("serial"),
                kind: kind,
                adamID: try row.decode("adam_id"),
                assignmentID: try row.decode("assignment_id"),
                createdAt: try row.decode("created_at")
            )
        }
    }

    func enqueueNotice(_ notice: Notice) async throws -> Bool {
        // The unique (tenant, token, kind, expiry) key makes a second insert, from this or any server, a no-op.
        try await !exec(
            """
            INSERT INTO notices (tenant_id, notice_id, token_id, kind, token_expires_at, recipients, subject, body,
                attempts, next_attempt_at, sent_at, last_error)
            VALUES (\(tenantID), \(notice.id), \(notice.tokenID), \(notice.kind.rawValue), \(notice.tokenExpiresAt),
                \(JSONList.encode(notice.recipients)), \(notice.subject), \(notice.body), \(notice.attempts),
                \(notice.nextAttemptAt), \(notice.sentAt), \(notice.lastError))
            ON CONFLICT (tenant_id, token_id, kind, token_expires_at) DO NOTHING RETURNING notice_id
            """
        ).isEmpty
    }

    /// Notices matching `condition`, in the order they fall due.
    private func notices(where condition: SQLQuery, limit: Int? = nil) async throws -> [Notice] {
        let limitClause: SQLQuery = limit.map { "LIMIT \($0)" } ?? ""
        return try await exec(
            """
            SELECT notice_id, token_id, kind, token_expires_at, recipients, subject, body, attempts, next_attempt_at,
                sent_at, last_error
            FROM notices WHERE tenant_id = \(tenantID) AND \(fragment: condition)
            ORDER BY next_attempt_at, kind \(fragment: limitClause)
            """
        ).map { row in
            let stored: String = try row.decode("kind")
            guard let kind = Notice.Kind(rawValue: stored) else { throw StoreError.unreadable("notice kind \(stored)") }
            return Notice(
                id: try row.decode("notice_id"),
                tokenID: try row.decode("token_id"),
                kind: kind,
                tokenExpiresAt: try row.decode("token_expires_at"),
                recipients: JSONList.decode(try row.decode("recipients")),
                subject: try row.decode("subject"),
                body: try row.decode("body"),
                attempts: try row.decode("attempts"),
                nextAttemptAt: try row.decode("next_attempt_at"),
                sentAt: try row.decode("sent_at"),
                lastError: try row.decode("last_error")
            )
        }
    }

    func notices() async throws -> [Notice] { try await notices(where: "true") }

    func dueNotices(now: Date, limit: Int) async throws -> [Notice] {
        try await notices(where: "sent_at IS NULL AND next_attempt_at <= \(now)", limit: limit)
    }

    func updateNotice(_ notice: Notice) async throws {
        try await exec(
            """
            UPDATE notices SET attempts = \(notice.attempts), next_attempt_at = \(notice.nextAttemptAt),
                sent_at = \(notice.sentAt), last_error = \(notice.lastError)
            WHERE tenant_id = \(tenantID) AND notice_id = \(notice.id)
            """
        )
    }

    func insertPendingEvents(_ events: [PendingAppleEvent]) async throws {
        try await insertMany(
            "INSERT INTO pending_events (tenant_id, event_id, token_id, kind, created_at, next_poll_at)",
            rows: events.map {
                "(\(tenantID), \($0.eventID), \($0.tokenID), \($0.kind), \($0.createdAt), \($0.nextPollAt))"
            },
            suffix: "ON CONFLICT (tenant_id, event_id) DO UPDATE SET next_poll_at = excluded.next_poll_at"
        )
    }

    func pendingEvents() async throws -> [PendingAppleEvent] { try await pendingEvents(where: "true") }

    func pendingEvent(_ eventID: String) async throws -> PendingAppleEvent? {
        try await pendingEvents(where: "event_id = \(eventID)").first
    }

    func dueEvents(now: Date, limit: Int) async throws -> [PendingAppleEvent] {
        // Migration 0012's (tenant_id, next_poll_at) index: a range, however many events wait for later.
        try await pendingEvents(where: "next_poll_at <= \(now)", limit: limit)
    }

    private func pendingEvents(where condition: SQLQuery, limit: Int? = nil) async throws -> [PendingAppleEvent] {
        let limitClause: SQLQuery = limit.map { "LIMIT \(max(0, $0))" } ?? ""
        return try await exec(
            """
            SELECT event_id, token_id, kind, created_at, next_poll_at FROM pending_events
            WHERE tenant_id = \(tenantID) AND \(fragment: condition) ORDER BY next_poll_at, event_id
            \(fragment: limitClause)
            """
        ).map { row in
            PendingAppleEvent(
                eventID: try row.decode("event_id"),
                tokenID: try row.decode("token_id"),
                kind: try row.decode("kind"),
                createdAt: try row.decode("created_at"),
                nextPollAt: try row.decode("next_poll_at")
            )
        }
    }

    func pollEventsSoon(tokenID: TokenID, at: Date) async throws -> Int {
        try await exec(
            """
            UPDATE pending_events SET next_poll_at = \(at)
            WHERE tenant_id = \(tenantID) AND token_id = \(tokenID) AND next_poll_at > \(at)
            RETURNING event_id
            """
        ).count
    }

    func deletePendingEvent(_ eventID: String) async throws {
        try await exec("DELETE FROM pending_events WHERE tenant_id = \(tenantID) AND event_id = \(eventID)")
    }

    func appendAudit(_ record: AuditRecord) async throws {
        try await exec(
            """
            INSERT INTO audit_log (tenant_id, audit_id, at, actor, action, target, outcome, detail)
            VALUES (\(tenantID), \(record.id), \(record.at), \(record.actor), \(record.action), \(record.target),
                \(record.outcome), \(record.detail))
            """
        )
    }

    func appendAudit(_ records: [AuditRecord]) async throws {
        guard !records.isEmpty else { return }
        try await insertMany(
            "INSERT INTO audit_log (tenant_id, audit_id, at, actor, action, target, outcome, detail)",
            rows: records.map { record in
                """
                (\(tenantID), \(record.id), \(record.at), \(record.actor), \(record.action), \(record.target),
                \(record.outcome), \(record.detail))
                """
            }
        )
    }

    func auditLog(limit: Int) async throws -> [AuditRecord] {
        try await auditPage(before: nil, limit: limit, filter: AuditFilter())
    }

    func auditPage(before: AuditCursor?, limit: Int, filter: AuditFilter) async throws -> [AuditRecord] {
        var conditions: [SQLQuery] = ["tenant_id = \(tenantID)"]
        // Row-value comparison: one range on the (tenant_id, at DESC, audit_id DESC) index of migration 0011.
        if let before { conditions.append("(at, audit_id) < (\(before.at), \(before.id))") }
        if let since = filter.since { conditions.append("at >= \(since)") }
        if let until = filter.until { conditions.append("at < \(until)") }
        if let actor = filter.actor { conditions.append("actor = \(actor)") }
        if let action = filter.action { conditions.append("action = \(action)") }
        return try await exec(
            """
            SELECT audit_id, at, actor, action, target, outcome, detail FROM audit_log
            WHERE \(fragment: .joined(conditions, separator: " AND "))
            ORDER BY at DESC, audit_id DESC LIMIT \(max(0, limit))
            """
        ).map { row in
            AuditRecord(
                id: try row.decode("audit_id"),
                at: try row.decode("at"),
                actor: try row.decode("actor"),
                action: try row.decode("action"),
                target: try row.decode("target"),
                outcome: try row.decode("outcome"),
                detail: try row.decode("detail")
            )
        }
    }
}
