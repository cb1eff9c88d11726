import Foundation
import VPPDomain
import VPPUseCases

extension SQLStore {
    public func dueIntents(now: Date, limit: Int) async throws -> [IntentGroup] {
        // One indexed query over every tenant (the partial index holds only queued intents), so an idle
        // deployment pays nothing per tenant.
        try await run { connection in
            try await connection.query(
                """
                SELECT DISTINCT tenant_id, token_id, adam_id, pricing, state FROM assignments
                WHERE state IN ('reserved', 'revocation-queued') AND (lease_until IS NULL OR lease_until < \(now))
                LIMIT \(limit)
                """
            ).map { row in
                let stored: String = try row.decode("state")
                guard let state = AssignmentState.Code(rawValue: stored) else {
                    throw StoreError.unreadable("queued intent in state \(stored)")
                }
                return IntentGroup(
                    tenantID: try row.decode("tenant_id"),
                    tokenID: try row.decode("token_id"),
                    asset: try row.assetKey(),
                    state: state
                )
            }
        }
    }
}
