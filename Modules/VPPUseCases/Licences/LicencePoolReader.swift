import Foundation
import VPPDomain

/// Reads licence pools (an app's licences across the tenant's tokens) with each token's status computed now.
public struct LicencePoolReader: Sendable {
    let clock: any Clock

    public init(clock: any Clock) { self.clock = clock }

    /// The pool of `asset` across the tenant's tokens, with each token's status computed now.
    func pool(_ tx: any TenantTransaction, _ asset: AssetKey, ours: HolderIdentity) async throws -> LicencePool {
        // Only this app's counts and the tokens that carry it: an assignment reads what it needs.
        let now = clock.now()
        var members: [PoolMember] = []
        for row in try await tx.counts(asset: asset) {
            guard let token = try await tx.token(row.tokenID) else { continue }
            members.append(
                PoolMember(
                    tokenID: token.id,
                    locationName: token.location.name,
                    status: token.status(at: now, ourHolder: ours),
                    expiresAt: token.expiresAt,
                    counts: row.counts
                )
            )
        }
        return LicencePool(asset: asset, members: members)
    }

    /// Every app's pool, from one read of the tokens and one of the counts (listings must not read per app).
    func pools(_ tx: any TenantTransaction, ours: HolderIdentity) async throws -> [AssetKey: LicencePool] {
        let now = clock.now()
        let tokens = Dictionary(uniqueKeysWithValues: try await tx.tokens().map { ($0.id, $0) })
        var members: [AssetKey: [PoolMember]] = [:]
        for row in try await tx.counts(tokenID: nil) {
            guard let token = tokens[row.tokenID] else { continue }
            members[row.asset, default: []].append(
                PoolMember(
                    tokenID: token.id,
                    locationName: token.location.name,
                    status: token.status(at: now, ourHolder: ours),
                    expiresAt: token.expiresAt,
                    counts: row.counts
                )
            )
        }
        return Dictionary(uniqueKeysWithValues: members.map { ($0.key, LicencePool(asset: $0.key, members: $0.value)) })
    }
}
