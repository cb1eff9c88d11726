import Foundation
import VPPDomain

extension VPPServices {
    /// The pool of `asset` across the tenant's tokens, with each token's status computed now.
    func pool(_ tx: any TenantTransaction, _ asset: AssetKey, ours: HolderIdentity) async throws -> LicencePool {
        // Only this app's counts and the tokens that carry it: an assignment reads what it needs.
        let now = clock.now()
        var members: [PoolMember] = []
        for row in try await tx.counts(asset: asset) {
            guard let token = try await tx.token(row.tokenID) else { continue }
            members.append(
                PoolMember(
                    tokenID: token.id, locationName: token.location.name,
                    status: token.status(at: now, ourHolder: ours), expiresAt: token.expiresAt, counts: row.counts))
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
                    tokenID: token.id, locationName: token.location.name,
                    status: token.status(at: now, ourHolder: ours),
                    expiresAt: token.expiresAt, counts: row.counts))
        }
        return Dictionary(uniqueKeysWithValues: members.map { ($0.key, LicencePool(asset: $0.key, members: $0.value)) })
    }
}

/// An assignee in the text form admins and Apple use.
extension Assignee {
    var text: String {
        switch self {
        case .device(let serial): serial.value
        case .user(let user): user.value
        }
    }
}

extension Sequence where Element == Assignee {
    /// The device serial numbers among these assignees, as Apple wants them.
    var serialNumberTexts: [String] { compactMap { if case .device(let s) = $0 { s.value } else { nil } } }
    /// The clientUserIds among these assignees.
    var clientUserIDTexts: [String] { compactMap { if case .user(let u) = $0 { u.value } else { nil } } }

    /// Refuses a request that names an assignee twice, naming them.
    func requireDistinct() throws {
        let duplicates = Dictionary(grouping: self, by: \.self).filter { $0.value.count > 1 }.keys.map(\.text).sorted()
        guard duplicates.isEmpty else { throw UseCaseError.duplicateAssignees(duplicates) }
    }
}
