import Foundation
import VPPDomain

/// Lists the tenant's tokens with their status computed now.
public struct ListTokens: Sendable {
    let store: any Store
    let clock: any Clock
    let tokenCredentials: TokenCredentials

    /// Takes only what this use case touches.
    public init(store: any Store, clock: any Clock, tokenCredentials: TokenCredentials) {
        self.store = store
        self.clock = clock
        self.tokenCredentials = tokenCredentials
    }

    /// One token, or `nil` when this tenant has no such token.
    public func one(_ caller: Caller, _ id: TokenID) async throws -> TokenOverview? {
        try caller.require(.read)
        let now = clock.now()
        let ours = try await tokenCredentials.holder(of: caller.tenantID)
        return try await store.inTenant(caller.tenantID) { tx in
            guard let token = try await tx.token(id) else { return nil }
            return TokenOverview(
                token: token,
                status: token.status(at: now, ourHolder: ours),
                sync: try await tx.syncState(id),
                appCount: try await tx.counts(tokenID: id).count
            )
        }
    }

    public func callAsFunction(_ caller: Caller) async throws -> [TokenOverview] {
        try caller.require(.read)
        let now = clock.now()
        let ours = try await tokenCredentials.holder(of: caller.tenantID)
        return try await store.inTenant(caller.tenantID) { tx in
            let counts = try await tx.counts(tokenID: nil)
            var result: [TokenOverview] = []
            for token in try await tx.tokens() {
                result.append(
                    TokenOverview(
                        token: token,
                        status: token.status(at: now, ourHolder: ours),
                        sync: try await tx.syncState(token.id),
                        appCount: counts.filter { $0.tokenID == token.id }.count
                    )
                )
            }
            return result
        }
    }
}
