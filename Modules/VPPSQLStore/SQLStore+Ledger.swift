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
                WHERE state IN ('reserved', 'revocation-queued') AND (lease_until IS NULL OR lease_until < ?)
                LIMIT ?
                """, .time(now), .int(Int64(limit))
            ).compactMap { row in
                guard let pricing = PricingParam(rawValue: try row.text(3)),
                      let state = AssignmentState.Code(rawValue: try row.text(4))
                else { throw StoreError.unreadable("queued intent \(try row.text(3)) \(try row.text(4))") }
                return IntentGroup(tenantID: TenantID(try row.uuid(0)), tokenID: TokenID(try row.uuid(1)),
                                   asset: AssetKey(adamID: try row.text(2), pricingParam: pricing), state: state)
            }
        }
    }
}
