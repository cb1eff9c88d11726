import Foundation
import Testing

@testable import VPPDomain

@Suite("Licence counts, assets, assignments")
struct LicenceModelTests {
    @Test("counts refuse impossible numbers")
    func countsValidate() throws {
        #expect(throws: LicenceError.self) { try LicenceCounts(total: 1, assigned: -1, available: 0) }
        #expect(throws: LicenceError.self) { try LicenceCounts(total: 5, assigned: 6, available: 0) }
        #expect(throws: LicenceError.self) { try LicenceCounts(total: 5, assigned: 0, available: 6) }
        let counts = try LicenceCounts(total: 15000, assigned: 5000, available: 10000)
        #expect(try counts.granting(2) == LicenceCounts(total: 15000, assigned: 5002, available: 9998))
        #expect(try counts.releasing(5000).available == 15000)
        #expect(throws: LicenceError.self) { try counts.granting(10001) }
        #expect(throws: LicenceError.self) { try counts.releasing(5001) }
    }

    @Test("sums saturate at Apple's unlimited total")
    func unlimited() throws {
        let unlimited = try LicenceCounts(
            total: LicenceCounts.unlimitedTotal,
            assigned: 3,
            available: LicenceCounts.unlimitedTotal - 3
        )
        let sum = unlimited + (try LicenceCounts(total: 10, assigned: 0, available: 10))
        #expect(sum.isUnlimited && sum.available <= sum.total)
    }

    @Test("books and non-device-assignable apps cannot go to devices; users can take both")
    func assignability() throws {
        let serial = Assignee.device(try SerialNumber("C02XK1JHJG5J"))
        let user = Assignee.user(try ClientUserID("user-1"))
        let book = Asset(
            key: AssetKey(adamID: "1"),
            productType: .book,
            platforms: [.iOS],
            isDeviceAssignable: false,
            isRevocable: true
        )
        let userOnlyApp = Asset(
            key: AssetKey(adamID: "2"),
            productType: .app,
            platforms: [.iOS],
            isDeviceAssignable: false,
            isRevocable: false
        )
        let app = Asset(
            key: AssetKey(adamID: "3", pricingParam: .plus),
            productType: .app,
            platforms: [.iOS, .macOS],
            isDeviceAssignable: true,
            isRevocable: true
        )
        #expect(throws: LicenceError.bookToDevice(book.key)) { try book.checkAssignable(to: serial) }
        #expect(throws: LicenceError.notDeviceAssignable(userOnlyApp.key)) {
            try userOnlyApp.checkAssignable(to: serial)
        }
        try book.checkAssignable(to: user)
        try app.checkAssignable(to: serial)
        #expect(throws: LicenceError.notRevocable(userOnlyApp.key)) { try userOnlyApp.checkRevocable() }
        #expect(app.key.description == "3/PLUS")
    }

    @Test("assignments follow the licence lifecycle and refuse skipped steps")
    func lifecycle() throws {
        var assignment = Assignment(
            tenantID: TenantID(),
            asset: AssetKey(adamID: "1"),
            assignee: .device(try SerialNumber("DMPXK1JHJG5J")),
            grantingToken: TokenID()
        )
        #expect(assignment.state == .reserved && assignment.state.holdsLicence)
        try assignment.move(to: .pending(eventID: "e1"))
        try assignment.move(to: .active)
        #expect(throws: LicenceError.invalidTransition(from: .active, to: .reserved)) {
            try assignment.move(to: .reserved)
        }
        #expect(throws: LicenceError.invalidTransition(from: .active, to: .revoking(eventID: "e2"))) {
            try assignment.move(to: .revoking(eventID: "e2"))
        }
        try assignment.move(to: .revocationQueued)
        try assignment.move(to: .revoking(eventID: "e2"))
        try assignment.move(to: .revoked)
        #expect(!assignment.state.holdsLicence)
        #expect(throws: LicenceError.self) { try assignment.move(to: .pending(eventID: "again")) }

        var failed = Assignment(
            tenantID: TenantID(),
            asset: AssetKey(adamID: "1"),
            assignee: .user(try ClientUserID("u")),
            grantingToken: TokenID()
        )
        try failed.move(to: .pending(eventID: "e"))
        try failed.move(to: .failed(reason: "9709 not enough licences"))
        #expect(!failed.state.holdsLicence)
        #expect(throws: LicenceError.self) { try failed.move(to: .pending(eventID: "again")) }
        // Apple's own list is the truth: a sync that finds the licence held after all brings it back.
        try failed.move(to: .active)
        #expect(failed.state.holdsLicence)
    }
}
