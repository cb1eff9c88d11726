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
            let deleted = try await http(
                "DELETE",
                d.sim + "/sim/locations/\(d.location.uid)/assignments",
                nil,
                ["adamId": Self.adamID, "serialNumbers": [victim]]
            ).0
            #expect(deleted == 200)
            #expect(DeclarativeDeployment.licenceTimes(try await d.licenceLog(), "disassociated")[victim]?.count == 1)
            #expect(
                try await http("PUT", d.mdmsim + "/sim/ddm/config", nil, ["evaluationDelayMilliseconds": 300]).0
                    == 200
            )
            let healed = try await MDMDeploymentTests.eventually(.seconds(120)) {
                let apps = try await d.declaredApps()
                return d.appState(victim, in: apps).state == "managed"
            }
            let app = try await d.declaredApps()[victim]?.first
            #expect(healed, "healed: \(app ?? [:]) \(d.logs)")
            #expect(app?["evaluations"] as? Int == 2, "LicenseNotFound, then managed: two status rounds")
            let log = try await d.licenceLog()
            #expect(DeclarativeDeployment.licenceTimes(log, "associated")[victim]?.count == 2, "re-associated")
            #expect(try await d.ddmStats()["licenceNotFound"] as? Int == 1)
            #expect(
                try await MDMDeploymentTests.eventually(.seconds(30)) {
                    try d.vppDeclarationRows().contains {
                        $0["serialNumber"] as? String == victim && $0["deviceState"] as? String == "managed"
                    }
                },
                "vpp shows the healed device managed"
            )
            for device in try await MDMDeploymentTests.simDevices(d.mdmsim) {
                #expect(MDMDeploymentTests.installs(device, adamID: Self.adamID).isEmpty, "no InstallApplication")
            }
        }
    }
}

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
            let d = try await DeclarativeDeployment(
                databaseURL: databaseURL,
                replicas: 2,
                licences: 20,
                settings: ["VPP_DECLARATION_STATUS_POLL_SECONDS": "1"],
                statusRoute: "kmfddm"
            )
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
            let deleted = try await http(
                "DELETE",
                d.sim + "/sim/locations/\(d.location.uid)/assignments",
                nil,
                ["adamId": Self.adamID, "serialNumbers": [victim]]
            ).0
            #expect(deleted == 200)
            #expect(
                try await http("PUT", d.mdmsim + "/sim/ddm/config", nil, ["evaluationDelayMilliseconds": 300]).0
                    == 200
            )
            let healed = try await MDMDeploymentTests.eventually(.seconds(120)) {
                d.appState(victim, in: try await d.declaredApps()).state == "managed"
            }
            let app = try await d.declaredApps()[victim]?.first
            #expect(healed, "healed: \(app ?? [:]) \(d.logs)")
            #expect(app?["evaluations"] as? Int == 2, "LicenseNotFound, then managed: two status rounds")
            let log = try await d.licenceLog()
            #expect(DeclarativeDeployment.licenceTimes(log, "associated")[victim]?.count == 2, "re-associated")
            #expect(try await d.ddmStats()["licenceNotFound"] as? Int == 1)
            let healedInVPP = try await MDMDeploymentTests.eventually(.seconds(60)) {
                verified(victim, try d.vppDeclarationRows())
            }
            let row = try d.vppDeclarationRows().first {
                $0["serialNumber"] as? String == victim && $0["change"] as? String == "join"
            }
            #expect(healedInVPP, "vpp shows the healed device verified: \(row ?? [:])")
            #expect(row?["healAttempts"] as? Int == 1, "healed once: \(row ?? [:])")
            #expect(try await d.ddmStats()["reportsSent"] as? Int ?? 0 >= 12)
            for device in try await MDMDeploymentTests.simDevices(d.mdmsim) {
                #expect(MDMDeploymentTests.installs(device, adamID: Self.adamID).isEmpty, "no InstallApplication")
            }
        }
    }
}

/// User licences by declaration end to end: mdmsim's devices carry a user's own enrollment (an enrollment id of its
/// own, signed in as a VPP user) that evaluates `License.Assignment: User` declarations against vppsim's user
/// licences and keeps its status in mdmsim's KMFDDM; vpp reads it back, verifies the user's licence and heals its
/// `Error.LicenseNotFound` like a device's.
@Suite("End to end: user enrollments by declaration", .serialized)
struct UserEnrollmentDeclarationTests {
    static let http = DeclarativeDeployment.http
    static let adamID = DeclarativeDeployment.adamID
    static let declaration = "vpp.app.\(adamID).STDQ.user"

    @Test(
        """
        A user enrollment evaluates the User declaration against the user's licence and reports managed: the user's \
        licence is verified; a user licence deleted at vppsim heals through its LicenseNotFound
        """
    )
    func userEnrollments() async throws {
        let http = Self.http
        try await TestDatabase.withFreshDatabase { _, databaseURL in
            let d = try await DeclarativeDeployment(
                databaseURL: databaseURL,
                replicas: 2,
                licences: 20,
                settings: ["VPP_DECLARATION_STATUS_POLL_SECONDS": "1"],
                statusRoute: "kmfddm"
            )
            defer { d.stop() }
            let devices = try await d.enroll(2, prefix: "USR")
            let users = ["ana-1", "bob-1"]
            #expect(
                try await http(
                    "POST",
                    d.servers[0] + "/v1/users",
                    d.apiKey,
                    ["users": users.map { ["clientUserId": $0] }]
                ).0 == 201
            )
            for (user, device) in zip(users, devices) {
                let enrollment = "UE-\(user)"
                #expect(
                    try await http(
                        "POST",
                        d.mdmsim + "/sim/ddm/user-enrollments",
                        nil,
                        ["udid": device.udid, "enrollmentId": enrollment, "clientUserId": user]
                    ).0 == 201
                )
                #expect(
                    try await http(
                        "PUT",
                        d.servers[1] + "/v1/users/\(user)/enrollment",
                        d.apiKey,
                        ["enrollmentId": enrollment]
                    ).0 == 200
                )
            }
            func app(_ enrollment: String) async throws -> [String: Any]? {
                try await d.declaredApps()[enrollment]?.first {
                    $0["declarationIdentifier"] as? String == Self.declaration
                }
            }
            func userRow(_ user: String) throws -> [String: Any]? {
                try d.vppDeclarationRows().first {
                    $0["clientUserId"] as? String == user && $0["change"] as? String == "join"
                }
            }

            // 1. ana's licence: her enrollment joins the User set after Apple holds it, installs, reports managed
            //    (kept in KMFDDM only); vpp reads it back and verifies her licence.
            #expect(
                try await http(
                    "POST",
                    d.servers[1] + "/v1/apps/\(Self.adamID)/licenses",
                    d.apiKey,
                    ["clientUserIds": ["ana-1"]]
                ).0 == 202
            )
            let verified = try await MDMDeploymentTests.eventually(.seconds(90)) {
                let row = try userRow("ana-1")
                return row?["deviceState"] as? String == "managed" && row?["installState"] as? String == "verified"
            }
            let anaRow = try userRow("ana-1")
            #expect(verified, "ana's licence verified: \(anaRow ?? [:]) \(d.logs)")
            #expect(try await app("UE-ana-1")?["state"] as? String == "managed")
            let joins = try await d.setChanges().filter {
                $0["enrollmentID"] as? String == "UE-ana-1" && $0["kind"] as? String == "join"
                    && $0["changed"] as? Bool == true
            }
            let licence = try await d.licenceLog().filter {
                $0["clientUserId"] as? String == "ana-1" && $0["kind"] as? String == "associated"
            }
            #expect(joins.count == 1 && licence.count == 1, "\(joins) \(licence)")
            #expect(
                (licence.first?["at"] as? Double ?? .infinity) < (joins.first?["at"] as? Double ?? 0),
                "Apple's user licence before the join"
            )
            #expect(try await d.ddmStats()["licenceNotFound"] as? Int == 0)

            // 2. bob's licence deleted at Apple after his enrollment joined, before it evaluates: LicenseNotFound,
            //    read back from KMFDDM; vpp asks Apple about bob, re-associates and re-publishes; managed.
            #expect(
                try await http("PUT", d.mdmsim + "/sim/ddm/config", nil, ["evaluationDelayMilliseconds": 4000]).0
                    == 200
            )
            #expect(
                try await http(
                    "POST",
                    d.servers[0] + "/v1/apps/\(Self.adamID)/licenses",
                    d.apiKey,
                    ["clientUserIds": ["bob-1"]]
                ).0 == 202
            )
            #expect(
                try await MDMDeploymentTests.eventually(.seconds(60)) {
                    try await d.setChanges().contains {
                        $0["enrollmentID"] as? String == "UE-bob-1" && $0["kind"] as? String == "join"
                    }
                },
                "bob's enrollment joined the set"
            )
            #expect(
                try await http(
                    "DELETE",
                    d.sim + "/sim/locations/\(d.location.uid)/assignments",
                    nil,
                    ["adamId": Self.adamID, "clientUserIds": ["bob-1"]]
                ).0 == 200
            )
            #expect(
                try await http("PUT", d.mdmsim + "/sim/ddm/config", nil, ["evaluationDelayMilliseconds": 300]).0
                    == 200
            )
            let healed = try await MDMDeploymentTests.eventually(.seconds(120)) {
                try await app("UE-bob-1")?["state"] as? String == "managed"
            }
            let bob = try await app("UE-bob-1")
            let bobRow = try userRow("bob-1")
            #expect(healed, "healed: \(bob ?? [:]) \(bobRow ?? [:]) \(d.logs)")
            #expect(bob?["evaluations"] as? Int == 2, "LicenseNotFound, then managed: two status rounds")
            let associated = try await d.licenceLog().filter {
                $0["clientUserId"] as? String == "bob-1" && $0["kind"] as? String == "associated"
            }
            #expect(associated.count == 2, "re-associated at Apple: \(associated)")
            #expect(try await d.ddmStats()["licenceNotFound"] as? Int == 1)
            let bobVerified = try await MDMDeploymentTests.eventually(.seconds(60)) {
                try userRow("bob-1")?["installState"] as? String == "verified"
            }
            let row = try userRow("bob-1")
            #expect(bobVerified && row?["healAttempts"] as? Int == 1, "bob verified after one heal: \(row ?? [:])")
            for device in try await MDMDeploymentTests.simDevices(d.mdmsim) {
                #expect(MDMDeploymentTests.installs(device, adamID: Self.adamID).isEmpty, "no InstallApplication")
            }
        }
    }
}
