import Foundation
import Testing
import VPPTestSupport

/// The device's own status back to vpp: mdmsim's devices post their `app.managed.list` reports to
/// `POST /v1/device-status/{enrollmentId}`; vpp records `managed` as verified and heals `Error.LicenseNotFound`.
@Suite("End to end: declarative status back", .serialized)
struct DeclarativeStatusTests {
    static let http = DeclarativeDeployment.http
    static let adamID = DeclarativeDeployment.adamID

    @Test(
        """
        30 devices report managed and vpp shows them verified; a licence deleted behind vpp's back: \
        LicenseNotFound, re-associated, re-published, managed within two status rounds
        """
    )
    func statusBackAndHealing() async throws {
        let http = Self.http
        try await TestDatabase.withFreshDatabase { _, databaseURL in
            let d = try await DeclarativeDeployment(databaseURL: databaseURL, replicas: 2, licences: 40)
            defer { d.stop() }
            let serials = try await d.enroll(30, prefix: "STA").map(\.serial)
            #expect(try await d.licences("POST", serials, through: 1) == 202)
            // 1. Every device reports managed; vpp shows each join with the device's `managed`.
            let verified = try await MDMDeploymentTests.eventually(.seconds(120)) {
                let rows = try d.vppDeclarationRows().filter { $0["change"] as? String == "join" }
                return Set(
                    rows.filter { $0["deviceState"] as? String == "managed" }.compactMap {
                        $0["serialNumber"] as? String
                    }
                ) == Set(serials)
            }
            let stats = try await d.ddmStats()
            #expect(verified, "vpp shows 30 devices managed: \(stats) \(d.logs)")

            // 2. A licence deleted at Apple behind vpp's back, after the device joined and before it evaluates:
            //    the device reports Error.LicenseNotFound; vpp asks Apple, re-associates and re-publishes with a
            //    new ServerToken; the device evaluates again and reports managed.
            #expect(
                try await http("PUT", d.mdmsim + "/sim/ddm/config", nil, ["evaluationDelayMilliseconds": 4000]).0
                    == 200
            )
            let victim = try #require(try await d.enroll(1, prefix: "HEAL").first?.serial)
            #expect(try await d.licences("POST", [victim], through: 0) == 202)
            #expect(
                try await MDMDeploymentTests.eventually(.seconds(60)) {
                    DeclarativeDeployment.changed(try await d.setChanges(), "join")[victim] != nil
                },
                "the device joined the set"
            )
            try await d.loseLicenceAtApple("serialNumbers", [victim])
            #expect(DeclarativeDeployment.licenceTimes(try await d.licenceLog(), "disassociated")[victim]?.count == 1)
            try await d.expectHealedOnce(victim)
            #expect(
                try await MDMDeploymentTests.eventually(.seconds(30)) {
                    try d.vppDeclarationRows().contains {
                        $0["serialNumber"] as? String == victim && $0["deviceState"] as? String == "managed"
                    }
                },
                "vpp shows the healed device managed"
            )
            try await d.expectNoInstallApplication()
        }
    }
}
