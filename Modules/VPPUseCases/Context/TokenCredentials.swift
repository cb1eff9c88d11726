import Foundation
import VPPDomain

/// Opens a stored token's secret and pairs it with the holder identity the tenant expects at Apple.
///
/// A collaborator rather than a helper on a bag of services: the use cases that talk to Apple for a stored
/// token take one of these, so their initialiser says they read token secrets.
public struct TokenCredentials: Sendable {
    let store: any Store
    let secrets: any SecretBox
    let holders: TenantHolderCache

    public init(store: any Store, secrets: any SecretBox, holders: TenantHolderCache = TenantHolderCache()) {
        self.store = store
        self.secrets = secrets
        self.holders = holders
    }

    /// The tenant's identity at Apple (its `mdmInfo`); read once per server, then remembered (it never changes).
    public func holder(of tenantID: TenantID) async throws -> HolderIdentity {
        let holder = try await holders.holder(of: tenantID) { try await store.tenant(tenantID)?.holderIdentity }
        guard let holder else { throw StoreError.unknownTenant }
        return holder
    }

    /// The credentials of stored token `tokenID`; with `expectHolder`, Apple's answers are checked against our
    /// holder identity (a token another MDM took is then refused instead of written to).
    public func open(
        _ tenantID: TenantID,
        _ tokenID: TokenID,
        expectHolder: Bool = true
    ) async throws -> AppleCredentials {
        let sealed = try await store.inTenant(tenantID) { tx in try await tx.tokenSecret(tokenID) }
        guard let sealed else { throw StoreError.unknownToken(tokenID) }
        let secret = ContentTokenSecret(unchecked: try secrets.open(sealed))
        return AppleCredentials(token: secret, expectedHolder: expectHolder ? try await holder(of: tenantID) : nil)
    }
}
