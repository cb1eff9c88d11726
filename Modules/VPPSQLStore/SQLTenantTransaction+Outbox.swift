import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction {
    func enqueueDeviceCommands(_ commands: [DeviceCommand]) async throws {
        let rows: [[SQLValue]] = commands.map {
            [
                tenant, .uuid($0.id), .text($0.serialNumber), .text($0.kind.rawValue), .text($0.adamID),
                $0.assignmentID.map { .uuid($0.rawValue) } ?? .null, .time($0.createdAt), .time($0.createdAt),
            ]
        }
        // One command of each kind per licence, whichever server learns of it and however often; due from its creation.
        try await insertMany(
            "INSERT INTO device_commands (tenant_id, command_id, serial, kind, adam_id, assignment_id, created_at, next_attempt_at)",
            columns: 8, rows: rows, suffix: "ON CONFLICT (tenant_id, assignment_id, kind) DO NOTHING")
    }

    func deviceCommands() async throws -> [DeviceCommand] {
        try await exec(
            """
            SELECT command_id, serial, kind, adam_id, assignment_id, created_at FROM device_commands
            WHERE tenant_id = ? ORDER BY created_at, serial
            """, [tenant]
        ).map { row in
            let stored = try row.text(2)
            guard let kind = DeviceCommand.Kind(rawValue: stored) else {
                throw StoreError.unreadable("device command \(stored)")
            }
            return DeviceCommand(
                id: try row.uuid(0), serialNumber: try row.text(1), kind: kind, adamID: try row.text(3),
                assignmentID: try row.optionalUUID(4).map(AssignmentID.init), createdAt: try row.time(5))
        }
    }

    func enqueueNotice(_ notice: Notice) async throws -> Bool {
        // The unique (tenant, token, kind, expiry) key makes a second insert, from this or any server, a no-op.
        try await !exec(
            """
            INSERT INTO notices (tenant_id, notice_id, token_id, kind, token_expires_at, recipients, subject, body, attempts, next_attempt_at, sent_at, last_error)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (tenant_id, token_id, kind, token_expires_at) DO NOTHING RETURNING notice_id
            """,
            [
                tenant, .uuid(notice.id), .uuid(notice.tokenID.rawValue), .text(notice.kind.rawValue),
                .time(notice.tokenExpiresAt),
                JSONList.encode(notice.recipients), .text(notice.subject), .text(notice.body),
                .int(Int64(notice.attempts)),
                .time(notice.nextAttemptAt), .optionalTime(notice.sentAt), .optional(notice.lastError),
            ]
        ).isEmpty
    }

    private static let noticeColumns = """
        notice_id, token_id, kind, token_expires_at, recipients, subject, body, attempts, next_attempt_at, sent_at, last_error
        """

    private static func notice(_ row: SQLRow) throws -> Notice {
        let stored = try row.text(2)
        guard let kind = Notice.Kind(rawValue: stored) else { throw StoreError.unreadable("notice kind \(stored)") }
        return Notice(
            id: try row.uuid(0), tokenID: TokenID(try row.uuid(1)), kind: kind, tokenExpiresAt: try row.time(3),
            recipients: JSONList.decode(try row.optionalText(4)), subject: try row.text(5), body: try row.text(6),
            attempts: try row.int(7), nextAttemptAt: try row.time(8), sentAt: try row.optionalTime(9),
            lastError: try row.optionalText(10))
    }

    func notices() async throws -> [Notice] {
        try await exec(
            "SELECT \(Self.noticeColumns) FROM notices WHERE tenant_id = ? ORDER BY next_attempt_at, kind", [tenant]
        )
        .map(Self.notice)
    }

    func dueNotices(now: Date, limit: Int) async throws -> [Notice] {
        try await exec(
            """
            SELECT \(Self.noticeColumns) FROM notices WHERE tenant_id = ? AND sent_at IS NULL AND next_attempt_at <= ?
            ORDER BY next_attempt_at, kind LIMIT ?
            """, [tenant, .time(now), .int(Int64(limit))]
        ).map(Self.notice)
    }

    func updateNotice(_ notice: Notice) async throws {
        try await exec(
            "UPDATE notices SET attempts = ?, next_attempt_at = ?, sent_at = ?, last_error = ? WHERE tenant_id = ? AND notice_id = ?",
            [
                .int(Int64(notice.attempts)), .time(notice.nextAttemptAt), .optionalTime(notice.sentAt),
                .optional(notice.lastError),
                tenant, .uuid(notice.id),
            ])
    }

    func insertPendingEvents(_ events: [PendingAppleEvent]) async throws {
        let rows: [[SQLValue]] = events.map {
            [
                tenant, .text($0.eventID), .uuid($0.tokenID.rawValue), .text($0.kind), .time($0.createdAt),
                .time($0.nextPollAt),
            ]
        }
        try await insertMany(
            "INSERT INTO pending_events (tenant_id, event_id, token_id, kind, created_at, next_poll_at)", columns: 6,
            rows: rows,
            suffix: "ON CONFLICT (tenant_id, event_id) DO UPDATE SET next_poll_at = excluded.next_poll_at")
    }

    func pendingEvents() async throws -> [PendingAppleEvent] {
        try await exec(
            "SELECT event_id, token_id, kind, created_at, next_poll_at FROM pending_events WHERE tenant_id = ? ORDER BY next_poll_at",
            [tenant]
        ).map { row in
            PendingAppleEvent(
                eventID: try row.text(0), tokenID: TokenID(try row.uuid(1)), kind: try row.text(2),
                createdAt: try row.time(3), nextPollAt: try row.time(4))
        }
    }

    func deletePendingEvent(_ eventID: String) async throws {
        try await exec("DELETE FROM pending_events WHERE tenant_id = ? AND event_id = ?", [tenant, .text(eventID)])
    }

    func appendAudit(_ record: AuditRecord) async throws {
        try await exec(
            """
            INSERT INTO audit_log (tenant_id, audit_id, at, actor, action, target, outcome, detail)
            VALUES (\(tenantID), \(record.id), \(record.at), \(record.actor), \(record.action), \(record.target),
                \(record.outcome), \(record.detail))
            """)
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
                id: try row.decode("audit_id"), at: try row.decode("at"), actor: try row.decode("actor"),
                action: try row.decode("action"), target: try row.decode("target"), outcome: try row.decode("outcome"),
                detail: try row.decode("detail"))
        }
    }
}
