import Foundation
import Testing
import VPPTestSupport

/// Behind NanoMDM and KMFDDM the devices' DeclarativeManagement check-ins go to KMFDDM, not to vpp: mdmsim's devices
/// here keep their status reports in mdmsim's KMFDDM only (`statusRoute: kmfddm`), and vpp reads them back with
/// `GET /v1/status-report/{enrollmentId}` for the enrollments that have not settled.
@Suite("End to end: declarative status read back from KMFDDM", .serialized)
struct DeclarativeStatusPollTests {
    static let http = DeclarativeDeployment.http
    static let adamID = DeclarativeDeployment.adamID

    @Test(
        """
        Devices that never post their status to vpp end verified from KMFDDM's status reports; a licence deleted \
        at vppsim heals through the polled Error.LicenseNotFound; settled enrollments are no longer read
        """
    )
    func statusReadBackFromKMFDDM() async throws {
        let http = Self.http
        try await TestDatabase.withFreshDatabase { _, databaseURL in
            let d = try await DeclarativeDeployment.readingStatusFromKMFDDM(databaseURL: databaseURL)
            defer { d.stop() }
            let serials = try await d.enroll(10, prefix: "PLL").map(\.serial)
            #expect(
                try await http(
                    "POST",
                    d.servers[1] + "/v1/apps/\(Self.adamID)/licenses",
                    d.apiKey,
                    ["serialNumbers": serials]
                ).0 == 202
            )
            // 1. Every device installs and its report stays in KMFDDM; vpp reads it and shows the install verified.
            func verified(_ serial: String, _ rows: [[String: Any]]) -> Bool {
                rows.contains {
                    $0["serialNumber"] as? String == serial && $0["change"] as? String == "join"
                        && $0["deviceState"] as? String == "managed" && $0["installState"] as? String == "verified"
                }
            }
            let allVerified = try await MDMDeploymentTests.eventually(.seconds(120)) {
                let rows = try d.vppDeclarationRows()
                return serials.allSatisfy { verified($0, rows) }
            }
            let stats = try await d.ddmStats()
            #expect(allVerified, "vpp shows 10 devices verified from KMFDDM: \(stats) \(d.logs)")
            #expect(stats["reportsKept"] as? Int ?? 0 >= 10, "the devices' reports went to KMFDDM: \(stats)")
            #expect(stats["statusReportReads"] as? Int ?? 0 >= 10, "vpp read them back: \(stats)")
            #expect(stats["reportsFailed"] as? Int == 0 && stats["licenceNotFound"] as? Int == 0, "\(stats)")

            // 2. Settled: a verified enrollment is not read again (reads stop growing while nothing is pending).
            try await Task.sleep(for: .seconds(3))
            let readsSettled = try await d.ddmStats()["statusReportReads"] as? Int ?? 0
            try await Task.sleep(for: .seconds(4))
            let readsLater = try await d.ddmStats()["statusReportReads"] as? Int ?? 0
            #expect(readsLater == readsSettled, "no reads once settled: \(readsSettled) then \(readsLater)")

            // 3. A licence deleted at Apple behind vpp's back after the device joined, before it evaluates: the
            //    device's Error.LicenseNotFound reaches vpp only through KMFDDM; vpp re-associates and re-publishes;
            //    the device evaluates again and reports managed, which vpp reads back too.
            #expect(
                try await http("PUT", d.mdmsim + "/sim/ddm/config", nil, ["evaluationDelayMilliseconds": 4000]).0
                    == 200
            )
            let victim = try #require(try await d.enroll(1, prefix: "PHEAL").first?.serial)
            #expect(
                try await http(
                    "POST",
                    d.servers[0] + "/v1/apps/\(Self.adamID)/licenses",
                    d.apiKey,
                    ["serialNumbers": [victim]]
                ).0 == 202
            )
            #expect(
                try await MDMDeploymentTests.eventually(.seconds(60)) {
                    DeclarativeDeployment.changed(try await d.setChanges(), "join")[victim] != nil
                },
                "the device joined the set"
            )
            try await d.loseLicenceAtApple("serialNumbers", [victim])
            try await d.expectHealedOnce(victim)
            let healedInVPP = try await MDMDeploymentTests.eventually(.seconds(60)) {
                verified(victim, try d.vppDeclarationRows())
            }
            let row = try d.vppDeclarationRows().first {
                $0["serialNumber"] as? String == victim && $0["change"] as? String == "join"
            }
            #expect(healedInVPP, "vpp shows the healed device verified: \(row ?? [:])")
            #expect(row?["healAttempts"] as? Int == 1, "healed once: \(row ?? [:])")
            #expect(try await d.ddmStats()["reportsSent"] as? Int ?? 0 >= 12)
            try await d.expectNoInstallApplication()
        }
    }
}
