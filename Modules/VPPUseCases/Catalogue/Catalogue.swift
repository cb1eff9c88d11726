import Foundation
import VPPDomain

/// Read-only queries behind the listings.
public struct Catalogue: Sendable {
    let store: any Store
    let tokenCredentials: TokenCredentials
    let poolReader: LicencePoolReader

    /// Takes only what this use case touches.
    public init(store: any Store, tokenCredentials: TokenCredentials, poolReader: LicencePoolReader) {
        self.store = store
        self.tokenCredentials = tokenCredentials
        self.poolReader = poolReader
    }

    public func apps(_ caller: Caller) async throws -> [AppView] {
        try caller.require(.read)
        let ours = try await tokenCredentials.holder(of: caller.tenantID)
        return try await store.inTenant(caller.tenantID) { tx in
            let pools = try await poolReader.pools(tx, ours: ours)
            return try await tx.apps().map { AppView($0, pool: pools[$0.asset.key]?.usableCounts ?? .zero) }
        }
    }

    public func licences(_ caller: Caller, asset: AssetKey? = nil) async throws -> [LicenceView] {
        try caller.require(.read)
        return try await store.inTenant(caller.tenantID) { tx in
            try await tx.assignments(AssignmentQuery(asset: asset)).map(LicenceView.init)
        }
    }

    public func auditLog(_ caller: Caller, limit: Int = 50) async throws -> [AuditRecord] {
        try caller.require(.read)
        return try await store.inTenant(caller.tenantID) { tx in try await tx.auditLog(limit: limit) }
    }
}
