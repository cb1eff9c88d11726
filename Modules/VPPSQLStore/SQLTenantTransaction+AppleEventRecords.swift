import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction: AppleEventRecords {
    func markNotificationProcessed(_ notificationID: String, type: String, at: Date) async throws -> Bool {
        try await !exec(
            """
            INSERT INTO processed_notifications (tenant_id, notification_id, received_at, type)
            VALUES (\(tenantID), \(notificationID), \(at), \(type))
            ON CONFLICT (tenant_id, notification_id) DO NOTHING RETURNING notification_id
            """
        ).isEmpty
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
}
