import Foundation

/// One token's share of an app's pool.
public struct PoolMember: Hashable, Sendable {
    public let tokenID: TokenID
    public let locationName: String
    public let status: TokenStatus
    public let expiresAt: Date
    public let counts: LicenceCounts

    public init(tokenID: TokenID, locationName: String, status: TokenStatus, expiresAt: Date, counts: LicenceCounts) {
        self.tokenID = tokenID
        self.locationName = locationName
        self.status = status
        self.expiresAt = expiresAt
        self.counts = counts
    }
}

/// The licences of one app across every token of a tenant that carries it.
///
/// The pool is the sum over usable tokens only: an expired, revoked, invalid or foreign-held token's
/// licences stay where they are but cannot be granted.
public struct LicencePool: Hashable, Sendable {
    public let asset: AssetKey
    public let members: [PoolMember]

    public init(asset: AssetKey, members: [PoolMember]) {
        self.asset = asset
        self.members = members
    }

    /// Counts over usable tokens.
    public var usableCounts: LicenceCounts {
        members.filter(\.status.isUsable).map(\.counts).reduce(.zero, +)
    }

    /// Counts over every token, usable or not (for reports).
    public var allCounts: LicenceCounts {
        members.map(\.counts).reduce(.zero, +)
    }

    /// Members that may grant, in the order the granting rule prefers them:
    /// latest expiry first (its licences live longest), then most available, then token id (determinism).
    public var grantingOrder: [PoolMember] {
        members
            .filter { $0.status.isUsable && $0.counts.available > 0 }
            .sorted { a, b in
                if a.expiresAt != b.expiresAt { return a.expiresAt > b.expiresAt }
                if a.counts.available != b.counts.available { return a.counts.available > b.counts.available }
                return a.tokenID < b.tokenID
            }
    }

    /// The token that grants the next single licence.
    public func grantingToken() throws(LicenceError) -> TokenID {
        try allocate(1)[0].tokenID
    }

    /// Splits `count` new licences over tokens by the granting rule, all or nothing.
    /// - Returns: one entry per token used, in granting order; counts sum to `count`.
    public func allocate(_ count: Int) throws(LicenceError) -> [(tokenID: TokenID, count: Int)] {
        precondition(count > 0, "allocate a positive number of licences")
        let usable = members.filter(\.status.isUsable)
        if usable.isEmpty {
            throw .noUsableToken(asset, reasons: members.map { "\($0.locationName) is \($0.status.code)" })
        }
        let order = grantingOrder
        let available = order.reduce(0) { $0 + $1.counts.available }
        guard available >= count else { throw .noLicencesLeft(asset, requested: count, available: available) }
        var remaining = count
        var plan: [(tokenID: TokenID, count: Int)] = []
        for member in order where remaining > 0 {
            let take = min(remaining, member.counts.available)
            plan.append((member.tokenID, take))
            remaining -= take
        }
        return plan
    }
}
