import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction: AuditRecords {
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
