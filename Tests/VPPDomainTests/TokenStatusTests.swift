import Foundation
import Testing

@testable import VPPDomain

@Suite("Token status is computed from facts and the injected clock")
struct TokenStatusTests {
    @Test(
        "active beyond 30 days, expiring soon at 30 days or fewer, expired at the expiry instant",
        arguments: [
            (45.0, "active"), (30.01, "active"), (30.0, "expiring_soon"), (1.0, "expiring_soon"),
            (0.0001, "expiring_soon"), (0.0, "expired"), (-3.0, "expired"),
        ]
    )
    func byClock(days: Double, expected: String) {
        #expect(makeToken(expiresInDays: days).status(at: referenceNow, ourHolder: ourHolder).code == expected)
    }

    @Test("days left round up")
    func daysLeft() {
        #expect(
            makeToken(expiresInDays: 1.5).status(at: referenceNow, ourHolder: ourHolder) == .expiringSoon(daysLeft: 2)
        )
        #expect(
            makeToken(expiresInDays: 0.0001).status(at: referenceNow, ourHolder: ourHolder)
                == .expiringSoon(daysLeft: 1)
        )
        #expect(makeToken(expiresInDays: 200).status(at: referenceNow, ourHolder: ourHolder) == .active(daysLeft: 200))
    }

    @Test("the same token changes status as the clock moves; nothing is stored")
    func clockMoves() {
        let token = makeToken(expiresInDays: 31)
        #expect(token.status(at: referenceNow, ourHolder: ourHolder).code == "active")
        #expect(token.status(at: referenceNow.adding(days: 2), ourHolder: ourHolder).code == "expiring_soon")
        #expect(token.status(at: referenceNow.adding(days: 32), ourHolder: ourHolder).code == "expired")
    }

    @Test("another MDM, another tenant and Apple Configurator all mean in use elsewhere")
    func inUseElsewhere() {
        let otherTenant = HolderIdentity(id: "tenant-other", name: "vpp", metadata: "mdm.example.com")
        for holder in [otherMDM, configurator, otherTenant] {
            let status = makeToken(expiresInDays: 100, holder: holder).status(at: referenceNow, ourHolder: ourHolder)
            #expect(status == .inUseElsewhere(holder: holder))
            #expect(!status.isUsable)
            #expect(status.nextStep.contains(holder.name))
        }
        #expect(configurator.isAppleConfigurator)
        #expect(!otherMDM.isAppleConfigurator)
    }

    @Test("our own holder under a new name or host is still us; no holder yet is usable")
    func sameHolder() {
        let renamed = HolderIdentity(id: ourHolder.id, name: "vpp 2", metadata: "new-host")
        #expect(makeToken(expiresInDays: 100, holder: renamed).status(at: referenceNow, ourHolder: ourHolder).isUsable)
        #expect(makeToken(expiresInDays: 100, holder: nil).status(at: referenceNow, ourHolder: ourHolder).isUsable)
    }

    @Test("precedence: revoked > invalid > expired > in use elsewhere")
    func precedence() {
        let status = { (t: ContentToken) in t.status(at: referenceNow, ourHolder: ourHolder).code }
        #expect(status(makeToken(expiresInDays: -1, revoked: true, invalid: true, holder: otherMDM)) == "revoked")
        #expect(status(makeToken(expiresInDays: -1, invalid: true, holder: otherMDM)) == "invalid")
        #expect(status(makeToken(expiresInDays: -1, holder: otherMDM)) == "expired")
        #expect(status(makeToken(expiresInDays: 5, holder: otherMDM)) == "in_use_elsewhere")
    }

    @Test("only active and expiring-soon tokens are usable, and every status says what to do next")
    func usability() {
        let all: [TokenStatus] = [
            .active(daysLeft: 40), .expiringSoon(daysLeft: 1), .expired(since: referenceNow),
            .revoked(since: referenceNow), .invalid(since: referenceNow), .inUseElsewhere(holder: otherMDM),
        ]
        #expect(all.filter(\.isUsable).map(\.code) == ["active", "expiring_soon"])
        #expect(Set(all.map(\.code)).count == all.count)
        for status in all {
            #expect(!status.nextStep.isEmpty)
            // Read by REST clients, the console and e-mail too: no command-line syntax.
            #expect(!status.nextStep.contains("`") && !status.nextStep.contains("--"), "\(status.nextStep)")
        }
        #expect(TokenStatus.expiringSoon(daysLeft: 1).nextStep.contains("1 day."))
    }

    @Test("a location without uId falls back to its name; country codes are upper-cased")
    func locationIdentity() {
        let a = Location(appleID: nil, name: "Main Campus", countryCode: "us")
        let b = Location(appleID: "  ", name: "Main Campus", countryCode: "US")
        #expect(a.appleID == "Main Campus" && a.isSameLocation(as: b) && a.countryCode == "US")
        #expect(
            !Location(appleID: "1", name: "x", countryCode: "US").isSameLocation(
                as: Location(appleID: "2", name: "x", countryCode: "US")
            )
        )
    }
}
