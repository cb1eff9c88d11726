import Foundation
import Testing
import VPPTestSupport

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
            let d = try await DeclarativeDeployment.readingStatusFromKMFDDM(databaseURL: databaseURL)
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
            try await d.loseLicenceAtApple("clientUserIds", ["bob-1"])
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
            try await d.expectNoInstallApplication()
        }
    }
}
