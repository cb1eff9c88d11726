import Foundation
import VPPDomain

/// The console's overview reads: apps with their pools, tokens with their status and totals. (Devices, users
/// and licences page through the same keyset reads as the API: ``Catalogue``.)
public struct ConsoleLists: Sendable {
    let store: any Store
    let clock: any Clock
    let tokenCredentials: TokenCredentials
    let poolReader: LicencePoolReader

    /// Takes only what this use case touches.
    public init(store: any Store, clock: any Clock, tokenCredentials: TokenCredentials, poolReader: LicencePoolReader) {
        self.store = store
        self.clock = clock
        self.tokenCredentials = tokenCredentials
        self.poolReader = poolReader
    }

    /// Every app with its pooled counts and one row per token that carries it, from one read of the pools.
    public func apps(_ caller: Caller) async throws -> [(app: AppView, perToken: [LicenceReportRow])] {
        try caller.require(.read)
        let ours = try await tokenCredentials.holder(of: caller.tenantID)
        return try await store.inTenant(caller.tenantID) { tx in
            let pools = try await poolReader.pools(tx, ours: ours)
            return try await tx.apps().map { app in
                let pool = pools[app.asset.key]
                return (AppView(app, pool: pool?.usableCounts ?? .zero), Self.rows(app, pool))
            }
        }
    }

    /// One app with its pool and per-token rows, or `nil` when the tenant has no such app.
    public func app(_ caller: Caller, _ key: AssetKey) async throws -> (app: AppView, perToken: [LicenceReportRow])? {
        try caller.require(.read)
        let ours = try await tokenCredentials.holder(of: caller.tenantID)
        let now = clock.now()
        return try await store.inTenant(caller.tenantID) { tx in
            guard let app = try await tx.app(key) else { return nil }
            let tokens = Dictionary(uniqueKeysWithValues: try await tx.tokens().map { ($0.id, $0) })
            let members = try await tx.counts(asset: key).compactMap { row -> PoolMember? in
                guard let token = tokens[row.tokenID] else { return nil }
                return PoolMember(
                    tokenID: token.id,
                    locationName: token.location.name,
                    status: token.status(at: now, ourHolder: ours),
                    expiresAt: token.expiresAt,
                    counts: row.counts
                )
            }
            let pool = LicencePool(asset: key, members: members)
            return (AppView(app, pool: pool.usableCounts), Self.rows(app, pool))
        }
    }

    /// Every token with its status now (the banner on every page: tokens only, no counts).
    public func tokenStatuses(_ caller: Caller) async throws -> [(token: ContentToken, status: TokenStatus)] {
        try caller.require(.read)
        let now = clock.now()
        let ours = try await tokenCredentials.holder(of: caller.tenantID)
        return try await store.inTenant(caller.tenantID) { tx in
            try await tx.tokens().map { ($0, $0.status(at: now, ourHolder: ours)) }
        }
    }

    /// Licences bought and assigned on each token (all its apps), without computing any pool.
    public func tokenTotals(_ caller: Caller) async throws -> [TokenID: (total: Int, assigned: Int)] {
        try caller.require(.read)
        return try await store.inTenant(caller.tenantID) { tx in
            var totals: [TokenID: (total: Int, assigned: Int)] = [:]
            for row in try await tx.counts(tokenID: nil) {
                let current = totals[row.tokenID] ?? (0, 0)
                totals[row.tokenID] = (current.total + row.counts.total, current.assigned + row.counts.assigned)
            }
            return totals
        }
    }

    /// The apps bought on one token with their counts there.
    public func tokenApps(_ caller: Caller, _ id: TokenID) async throws -> [LicenceReportRow] {
        try caller.require(.read)
        return try await store.inTenant(caller.tenantID) { tx in
            guard let token = try await tx.token(id) else { return [] }
            let counts = try await tx.counts(tokenID: id)
            let apps = try await tx.apps(adamIDs: Array(Set(counts.map(\.asset.adamID))))
            let names = Dictionary(apps.map { ($0.asset.key, $0.metadata?.name) }, uniquingKeysWith: { a, _ in a })
            return counts.map { row in
                LicenceReportRow(
                    adamID: row.asset.adamID,
                    pricingParam: row.asset.pricingParam.rawValue,
                    name: names[row.asset].flatMap { $0 } ?? row.asset.adamID,
                    location: token.location.name,
                    tokenStatus: "",
                    total: row.counts.total,
                    assigned: row.counts.assigned,
                    available: row.counts.available,
                    retired: row.counts.retired
                )
            }
        }
    }

    static func rows(_ app: AppRecord, _ pool: LicencePool?) -> [LicenceReportRow] {
        (pool?.members ?? []).map { member in
            LicenceReportRow(
                adamID: app.asset.key.adamID,
                pricingParam: app.asset.key.pricingParam.rawValue,
                name: app.metadata?.name ?? app.asset.key.adamID,
                location: member.locationName,
                tokenStatus: member.status.code,
                total: member.counts.total,
                assigned: member.counts.assigned,
                available: member.counts.available,
                retired: member.counts.retired
            )
        }
    }
}
