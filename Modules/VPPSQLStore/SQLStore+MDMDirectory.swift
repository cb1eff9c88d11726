import Foundation
import VPPDomain
import VPPUseCases

extension SQLStore: MDMDirectory {
    public func tenantsWithMDMWork(now: Date) async throws -> [TenantID] {
        try await run { connection in
            try await connection.query(
                """
                SELECT DISTINCT tenant_id FROM device_commands WHERE state = 'queued' AND next_attempt_at <= \(now)
                    AND (lease_until IS NULL OR lease_until < \(now))
                UNION SELECT DISTINCT tenant_id FROM mdm_events WHERE state = 'pending'
                UNION SELECT DISTINCT tenant_id FROM declaration_set_changes WHERE state = 'queued'
                    AND next_attempt_at <= \(now) AND (lease_until IS NULL OR lease_until < \(now))
                UNION SELECT DISTINCT tenant_id FROM declaration_publications WHERE publication > published
                UNION SELECT DISTINCT p.tenant_id FROM declaration_status_polls p
                    JOIN tenant_app_delivery t ON t.tenant_id = p.tenant_id AND t.publisher = 'kmfddm'
                    WHERE p.next_poll_at IS NOT NULL AND p.next_poll_at <= \(now)
                """
            ).map { try $0.decode("tenant_id") }
        }
    }

    public func tenantsWithMDMConnection() async throws -> [TenantID] {
        try await run { connection in
            try await connection.query("SELECT tenant_id FROM mdm_connections ORDER BY tenant_id").map {
                try $0.decode("tenant_id")
            }
        }
    }
}
