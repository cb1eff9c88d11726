import Foundation
import Testing
import VPPDomain

/// The device's `app.managed.list` status, read from reports shaped as Apple documents them, and what vpp does
/// about each state.
@Suite("Declarative status: app.managed.list read and judged")
struct ManagedAppStatusTests {
    static let report = #"""
        {"StatusItems": {"app": {"managed": {"list": [
          {"identifier": "com.apple.Keynote", "declaration-identifier": "vpp.app.361285480.STDQ.device",
           "state": "managed", "external-version-id": 862000123, "version": "14.1"},
          {"identifier": "com.apple.Pages", "declaration-identifier": "vpp.app.361309726.STDQ.device",
           "state": "failed", "reasons": [{"code": "Error.LicenseNotFound",
           "description": "A license for the app was not available."}]},
          {"identifier": "com.apple.Numbers", "declaration-identifier": "vpp.app.361304891.PLUS.user",
           "state": "managed-but-uninstalled"},
          {"identifier": "com.example.Gone", "_removed": true},
          {"identifier": "com.example.Busy", "state": "downloading"},
          {"identifier": "com.example.Broken", "state": "failed", "reasons": [{"code": "Error.InstallFailed"}]},
          {"identifier": "com.example.Future", "state": "some-new-state"}
        ]}}}, "Errors": []}
        """#

    @Test("each app's bundle id, declaration, state, reasons, version; removed items; unknown states kept raw")
    func read() throws {
        let apps = try DeclarativeStatusReport.managedApps(Data(Self.report.utf8))
        #expect(apps.count == 7)
        #expect(apps[0].state == .managed && apps[0].externalVersionID == 862_000_123 && apps[0].version == "14.1")
        #expect(
            apps[1].reasons == [
                StatusReason(code: "Error.LicenseNotFound", description: "A license for the app was not available.")
            ]
        )
        #expect(apps[3].removed && apps[3].state == nil)
        #expect(apps[6].state == nil && apps[6].rawState == "some-new-state")
        #expect(
            apps.map(\.disposition) == [.verified, .licenceNotFound, .drift, .pending, .pending, .failed, .pending]
        )
    }

    @Test("vpp's declarations are recognised by identifier; others are not")
    func identifiers() {
        #expect(
            ManagedAppDeclaration.parse(identifier: "vpp.app.361285480.STDQ.device")?.0 == AssetKey(adamID: "361285480")
        )
        #expect(ManagedAppDeclaration.parse(identifier: "vpp.app.361304891.PLUS.user")?.1 == .user)
        for other in [
            "com.example.app", "vpp.app.12ab.STDQ.device", "vpp.app.1.GOLD.device", "vpp.app.1.STDQ.family",
            "vpp.app.1.STDQ.device.x", "",
        ] {
            #expect(ManagedAppDeclaration.parse(identifier: other) == nil, "\(other)")
        }
        let declaration = try? ManagedAppDeclaration(
            asset: AssetKey(adamID: "42", pricingParam: .plus),
            assignment: .user
        )
        #expect(declaration.flatMap { ManagedAppDeclaration.parse(identifier: $0.identifier) }?.0.pricingParam == .plus)
    }

    @Test("reports without app status are empty; malformed ones are refused")
    func edges() throws {
        #expect(try DeclarativeStatusReport.managedApps(Data(#"{"StatusItems": {"device": {}}}"#.utf8)).isEmpty)
        #expect(throws: StatusReportError.notJSON) { try DeclarativeStatusReport.managedApps(Data("[1]".utf8)) }
        #expect(throws: StatusReportError.self) {
            try DeclarativeStatusReport.managedApps(
                Data(#"{"StatusItems": {"app": {"managed": {"list": [{}]}}}}"#.utf8)
            )
        }
    }
}
