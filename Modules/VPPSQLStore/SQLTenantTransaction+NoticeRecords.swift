import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction: NoticeRecords {
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
}
