import Foundation
import Testing
import VPPTestSupport

/// Apps by declaration end to end, all real processes (see ``DeclarativeDeployment``): vpp puts a device's
/// enrollment in the app's KMFDDM set only after Apple holds its licence, takes it out before Apple is told to
/// disassociate, never sends InstallApplication for the app, and carries out a set change once although the
/// replica carrying it out is killed. mdmsim's devices ask vppsim for the licence before installing, so a set
/// change that came first would show as `Error.LicenseNotFound`.
@Suite("End to end: apps by declaration", .serialized)
struct DeclarativeDeliveryTests {
    static let http = DeclarativeDeployment.http
    static let adamID = DeclarativeDeployment.adamID

    @Test(
        """
        30 devices: join after Apple's licence, managed with no LicenseNotFound and no InstallApplication; 5 \
        revoked leave before Apple's disassociate; a replica SIGKILLed before the set change: one change
        """
    )
    func licenceFirstThenDeclaration() async throws {
        let http = Self.http
        try await TestDatabase.withFreshDatabase { _, databaseURL in
            let d = try await DeclarativeDeployment(databaseURL: databaseURL, replicas: 2, licences: 40)
            defer { d.stop() }
            let devices = try await d.enroll(30, prefix: "DDM")
            let serials = devices.map(\.serial)

            // 1. Thirty licences through the second replica: each device joins the app's set after Apple holds
            //    its licence, evaluates the declaration and installs the app.
            #expect(try await d.licences("POST", serials, through: 1) == 202)
            let installed = try await MDMDeploymentTests.eventually(.seconds(120)) {
                let apps = try await d.declaredApps()
                return serials.allSatisfy { d.appState($0, in: apps).state == "managed" }
            }
            let rows = try d.vppDeclarationRows().map {
                "\($0["serialNumber"] ?? "") \($0["state"] ?? "") \($0["lastError"] ?? "")"
            }
            #expect(installed, "30 devices managed: \(rows.prefix(5)) \(d.logs) \(d.mdm.log.suffix(2000))")
            let joins = DeclarativeDeployment.changed(try await d.setChanges(), "join")
            let associated = DeclarativeDeployment.licenceTimes(try await d.licenceLog(), "associated")
            for serial in serials {
                let join = try #require(joins[serial], "\(serial) joined the set")
                let licence = try #require(associated[serial], "Apple holds \(serial)'s licence")
                #expect(join.count == 1 && licence.count == 1, "one join and one licence for \(serial)")
                #expect(
                    licence[0] < join[0],
                    "\(serial): Apple's licence at \(licence[0]) before the join at \(join[0])"
                )
            }
            let stats = try await d.ddmStats()
            #expect(stats["licenceNotFound"] as? Int == 0, "no device found its licence missing: \(stats)")
            #expect(stats["evaluations"] as? Int == 30, "one evaluation per device: \(stats)")

            // 2. No InstallApplication for the app reached any device, at any point (mdmsim's command log).
            for device in try await MDMDeploymentTests.simDevices(d.mdmsim) {
                #expect(MDMDeploymentTests.installs(device, adamID: Self.adamID).isEmpty)
                let bundles = device["installed"] as? [String] ?? []
                #expect(bundles == ["com.example.app\(Self.adamID)"], "installed by declaration: \(device)")
            }

            // 3. Five licences revoked: each device leaves the set before Apple sees the disassociate, and the
            //    app is gone from it; the other 25 keep theirs.
            let revoked = Array(serials.prefix(5))
            #expect(try await d.licences("DELETE", revoked, through: 0) == 202)
            let disassociatedAll = try await MDMDeploymentTests.eventually(.seconds(120)) {
                let gone = DeclarativeDeployment.licenceTimes(try await d.licenceLog(), "disassociated")
                return revoked.allSatisfy { gone[$0] != nil }
            }
            #expect(disassociatedAll, "Apple disassociated the five: \(d.logs)")
            let leaves = DeclarativeDeployment.changed(try await d.setChanges(), "leave")
            let disassociated = DeclarativeDeployment.licenceTimes(try await d.licenceLog(), "disassociated")
            for serial in revoked {
                let leave = try #require(leaves[serial], "\(serial) left the set")
                let gone = try #require(disassociated[serial])
                #expect(leave.count == 1, "one leave for \(serial)")
                #expect(
                    leave[0] < gone[0],
                    "\(serial): left the set at \(leave[0]) before Apple's disassociate at \(gone[0])"
                )
            }
            #expect(leaves.count == 5, "only the five left: \(leaves.keys.sorted())")
            #expect(
                try await MDMDeploymentTests.eventually(.seconds(30)) {
                    let apps = try await d.declaredApps()
                    return revoked.allSatisfy { d.appState($0, in: apps).removed }
                        && serials.dropFirst(5).allSatisfy { d.appState($0, in: apps).state == "managed" }
                },
                "the five removed the app, the others kept it"
            )
            for device in try await MDMDeploymentTests.simDevices(d.mdmsim)
            where revoked.contains(device["serialNumber"] as? String ?? "") {
                #expect(
                    (device["installed"] as? [String] ?? []).isEmpty,
                    "the app is gone from \(device["serialNumber"] ?? "")"
                )
            }

            // 4. One replica left; the DDM server answers slowly, and the replica is killed (SIGKILL) after Apple
            //    confirmed five new licences and while it is carrying out their changes, before the set change.
            //    A new replica takes the changes over after the lease: each device joins exactly once.
            d.replicas[1].stop()
            let late = try await d.enroll(5, prefix: "KIL").map(\.serial)
            let requestsBefore = try await d.ddmStats()["apiRequests"] as? Int ?? 0
            #expect(
                try await http("PUT", d.mdmsim + "/sim/faults", nil, ["mode": "slow", "delayMilliseconds": 3000]).0
                    == 200
            )
            #expect(try await d.licences("POST", late, through: 0) == 202)
            let inFlight = try await MDMDeploymentTests.eventually(.seconds(60)) {
                let confirmed = DeclarativeDeployment.licenceTimes(try await d.licenceLog(), "associated")
                let requests = try await d.ddmStats()["apiRequests"] as? Int ?? 0
                return late.allSatisfy { confirmed[$0] != nil } && requests > requestsBefore
            }
            #expect(inFlight, "Apple confirmed and the replica is talking to the DDM server")
            kill(d.replicas[0].process.processIdentifier, SIGKILL)
            d.replicas[0].process.waitUntilExit()
            let joinedBeforeKill = DeclarativeDeployment.changed(try await d.setChanges(), "join")
            #expect(late.allSatisfy { joinedBeforeKill[$0] == nil }, "killed before the set change")
            #expect(try await http("PUT", d.mdmsim + "/sim/faults", nil, ["mode": "none"]).0 == 200)
            try await d.startReplica(port: d.publicPort)
            let joinedAfter = try await MDMDeploymentTests.eventually(.seconds(150)) {
                let joins = DeclarativeDeployment.changed(try await d.setChanges(), "join")
                return late.allSatisfy { joins[$0] != nil }
            }
            #expect(joinedAfter, "the new replica carried the changes out: \(d.logs)")
            try await Task.sleep(for: .seconds(2))
            let changes = try await d.setChanges()
            let finalJoins = DeclarativeDeployment.changed(changes, "join")
            for serial in late {
                #expect(finalJoins[serial]?.count == 1, "\(serial)'s set change happened exactly once")
            }
            let repeats = changes.filter { $0["changed"] as? Bool == false }.count
            #expect(
                try await MDMDeploymentTests.eventually(.seconds(30)) {
                    let apps = try await d.declaredApps()
                    return late.allSatisfy { d.appState($0, in: apps).state == "managed" }
                },
                "the five installed (\(repeats) repeated set requests answered 304)"
            )
            #expect(try await d.ddmStats()["licenceNotFound"] as? Int == 0)
        }
    }
}
