import Foundation
import Testing

@testable import VPPDomain

@Suite("Licence pool across tokens and the granting rule")
struct LicencePoolTests {
    let asset = AssetKey(adamID: "408709785")

    func member(_ token: ContentToken, available: Int, assigned: Int = 0) -> PoolMember {
        PoolMember(
            tokenID: token.id,
            locationName: token.location.name,
            status: token.status(at: referenceNow, ourHolder: ourHolder),
            expiresAt: token.expiresAt,
            counts: try! LicenceCounts(total: available + assigned, assigned: assigned, available: available)
        )
    }

    @Test("the pool counts usable tokens only")
    func poolSumsUsable() throws {
        let pool = LicencePool(
            asset: asset,
            members: [
                member(makeToken(expiresInDays: 100), available: 5, assigned: 5),
                member(makeToken(expiresInDays: 10), available: 3),
                member(makeToken(expiresInDays: -1), available: 50),
                member(makeToken(expiresInDays: 100, holder: configurator), available: 70),
                member(makeToken(expiresInDays: 100, revoked: true), available: 80),
            ]
        )
        #expect(pool.usableCounts == (try LicenceCounts(total: 13, assigned: 5, available: 8)))
        #expect(pool.allCounts.available == 208)
    }

    @Test("grants from the token expiring last, then the one with most available, then by id")
    func grantingOrder() throws {
        let late = makeToken(expiresInDays: 300)
        let early = makeToken(expiresInDays: 20)
        let pool = LicencePool(asset: asset, members: [member(early, available: 100), member(late, available: 1)])
        #expect(try pool.grantingToken() == late.id)

        let a = makeToken(expiresInDays: 200)
        let b = makeToken(expiresInDays: 200)
        let tie = LicencePool(asset: asset, members: [member(a, available: 3), member(b, available: 9)])
        #expect(try tie.grantingToken() == b.id)

        let (x, y) = (makeToken(expiresInDays: 200), makeToken(expiresInDays: 200))
        let fullTie = LicencePool(asset: asset, members: [member(x, available: 4), member(y, available: 4)])
        let expected = min(x.id, y.id)
        #expect(try fullTie.grantingToken() == expected)
        #expect(
            try LicencePool(asset: asset, members: fullTie.members.reversed()).grantingToken() == expected,
            "order of input does not matter"
        )
    }

    @Test("skips expired, revoked, invalid, foreign-held and empty tokens")
    func skipsUnusable() throws {
        let good = makeToken(expiresInDays: 40)
        let pool = LicencePool(
            asset: asset,
            members: [
                member(makeToken(expiresInDays: -1), available: 99),
                member(makeToken(expiresInDays: 900, revoked: true), available: 99),
                member(makeToken(expiresInDays: 900, invalid: true), available: 99),
                member(makeToken(expiresInDays: 900, holder: otherMDM), available: 99),
                member(makeToken(expiresInDays: 900), available: 0, assigned: 10),
                member(good, available: 1),
            ]
        )
        #expect(try pool.grantingToken() == good.id)
    }

    @Test("no usable token: the error names each token and why")
    func noUsableToken() {
        let expired = makeToken(expiresInDays: -1)
        let foreign = makeToken(expiresInDays: 50, holder: configurator)
        let pool = LicencePool(asset: asset, members: [member(expired, available: 9), member(foreign, available: 9)])
        #expect(
            throws: LicenceError.noUsableToken(
                asset,
                reasons: ["\(expired.location.name) is expired", "\(foreign.location.name) is in_use_elsewhere"]
            )
        ) {
            try pool.grantingToken()
        }
        #expect(throws: LicenceError.noUsableToken(asset, reasons: [])) {
            try LicencePool(asset: asset, members: []).grantingToken()
        }
    }

    @Test("no licences left anywhere in the pool")
    func emptyPool() {
        let pool = LicencePool(
            asset: asset,
            members: [
                member(makeToken(expiresInDays: 40), available: 0, assigned: 5),
                member(makeToken(expiresInDays: 90), available: 2, assigned: 5),
            ]
        )
        #expect(throws: LicenceError.noLicencesLeft(asset, requested: 3, available: 2)) { try pool.allocate(3) }
        #expect(LicenceError.noLicencesLeft(asset, requested: 3, available: 2).description.contains("408709785"))
    }

    @Test("bulk allocation spills over tokens in granting order and sums to the request")
    func bulkAllocation() throws {
        let late = makeToken(expiresInDays: 300)
        let mid = makeToken(expiresInDays: 200)
        let early = makeToken(expiresInDays: 100)
        let pool = LicencePool(
            asset: asset,
            members: [member(early, available: 10), member(late, available: 4), member(mid, available: 5)]
        )
        let plan = try pool.allocate(12)
        #expect(plan.map(\.tokenID) == [late.id, mid.id, early.id])
        #expect(plan.map(\.count) == [4, 5, 3])
    }
}
