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

extension SQLTenantTransaction {
    func devices(_ serials: [SerialNumber]) async throws -> [Device] {
        // A few named devices are read one by one (an indexed lookup each); a bulk request reads the inventory once.
        guard serials.count > 20 else {
            var found: [Device] = []
            for serial in serials { if let device = try await device(serial) { found.append(device) } }
            return found
        }
        let wanted = Set(serials)
        return try await devices().filter { wanted.contains($0.serialNumber) }
    }

    func users(_ ids: [ClientUserID]) async throws -> [ManagedUser] {
        let wanted = Set(ids)
        return try await users().filter { wanted.contains($0.clientUserID) }
    }
}
