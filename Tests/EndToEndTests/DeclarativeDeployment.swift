import Foundation
import Testing
import VPPTestSupport

/// vppsim (Apple), mdmsim (NanoMDM, KMFDDM and devices that evaluate declarations) and vppd replicas on one
/// PostgreSQL database, one tenant delivering apps by declaration. Stop it with ``stop()``.
final class DeclarativeDeployment: @unchecked Sendable {
    static let http = TwoServersRaceTests.http
    static let adamID = "408709785"
    /// The declaration (and set) vpp names for the app's device licences.
    static let declaration = "vpp.app.\(adamID).STDQ.device"

    let simulator: ServerProcess
    let mdm: ServerProcess
    var replicas: [ServerProcess] = []
    let sim: String
    let mdmsim: String
    let env: [String: String]
    let apiKey: String
    var location = SimulatedLocation(uid: "", tokenFile: "")
    let folder: URL
    var servers: [String] = []
    let publicPort: Int

    /// Starts everything: `replicas` vppd (with `settings` added to their environment), `licences` of the app at
    /// Apple, the token synced; mdmsim's devices send their status reports by `statusRoute` (`post`, `webhook`, or
    /// `kmfddm`: kept only by mdmsim's KMFDDM, for vpp to read back).
    init(
        databaseURL: String,
        replicas count: Int,
        licences: Int,
        settings: [String: String] = [:],
        statusRoute: String = "post"
    ) async throws {
        let http = Self.http
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("vpp-ddm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let apiKeyFile = folder.appendingPathComponent("mdm.key").path
        let hmacKeyFile = folder.appendingPathComponent("hmac.key").path
        try "sim-api-\(UUID().uuidString)".write(toFile: apiKeyFile, atomically: true, encoding: .utf8)
        try "hmac-\(UUID().uuidString)".write(toFile: hmacKeyFile, atomically: true, encoding: .utf8)
        simulator = try ServerProcess(
            "vppsim",
            ["serve", "--port", "0", "--rate-limit", "0", "--log-level", "error"],
            environment: [:]
        )
        sim = try await simulator.waitForURL()
        mdm = try ServerProcess(
            "mdmsim",
            [
                "serve", "--port", "0", "--api-key-file", apiKeyFile, "--hmac-key-file", hmacKeyFile,
                "--vppsim-url", sim, "--log-level", "error",
            ],
            environment: [:]
        )
        mdmsim = try await mdm.waitForURL()
        publicPort = try ScenariosAcrossServersTests.freePort()
        let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        env = [
            "VPP_DATABASE_URL": databaseURL, "VPP_ENCRYPTION_KEY": key, "VPP_APPLE_BASE_URL": sim + "/mdm/v2",
            "VPP_LOG_LEVEL": "error", "VPP_PUBLIC_URL": "http://127.0.0.1:\(publicPort)",
        ].merging(settings) { $1 }
        _ = try run("vppctl", ["migrate"], environment: env)
        _ = try run("vppctl", ["tenant", "create", "acme"], environment: env)
        apiKey = try run("vppctl", ["apikey", "create", "--role", "mdm-admin", "--tenant", "acme"], environment: env)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try run(
            "vppctl",
            [
                "mdm", "connect", "nanomdm", "--url", mdmsim, "--api-key-file", apiKeyFile, "--hmac-key-file",
                hmacKeyFile, "--tenant", "acme",
            ],
            environment: env
        )
        // KMFDDM beside NanoMDM, as NanoHUB serves both: one server, one API key.
        _ = try run(
            "vppctl",
            ["mdm", "declarations", "kmfddm", "--url", mdmsim, "--api-key-file", apiKeyFile, "--tenant", "acme"],
            environment: env
        )
        _ = try run("vppctl", ["mdm", "delivery", "declarations", "--tenant", "acme"], environment: env)
        let show = try #require(
            try JSONSerialization.jsonObject(
                with: Data(try run("vppctl", ["mdm", "show", "--json", "--tenant", "acme"], environment: env).utf8)
            ) as? [String: Any]
        )
        #expect(
            try await http("PUT", mdmsim + "/sim/config", nil, ["webhookURL": try #require(show["webhookURL"])]).0
                == 200
        )
        for index in 0..<count { try await startReplica(port: index == 0 ? publicPort : 0) }
        #expect(
            try await http(
                "PUT",
                mdmsim + "/sim/ddm/config",
                nil,
                [
                    "statusURL": servers[0], "statusAPIKey": apiKey, "evaluationDelayMilliseconds": 300,
                    "statusRoute": statusRoute,
                ]
            ).0 == 200
        )
        location = try await SimulatedLocation.create(
            sim: sim,
            name: "Main Campus",
            adamID: Self.adamID,
            licences: licences
        )
        _ = try await MDMDeploymentTests.uploadAndSync(
            location.tokenFile,
            uploadTo: servers[0],
            syncAt: servers[servers.count - 1],
            apiKey: apiKey
        )
    }

    func startReplica(port: Int = 0) async throws {
        let process = try ServerProcess("vppd", ["serve", "--port", "\(port)"], environment: env)
        replicas.append(process)
        servers.append(try await process.waitForURL())
    }

    func stop() {
        for replica in replicas { replica.stop() }
        mdm.stop()
        simulator.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    var logs: String { replicas.map { String($0.log.suffix(3000)) }.joined(separator: "\n---\n") }

    // MARK: Reading the stand-ins

    /// Assigns (`POST`) or revokes (`DELETE`) the app's licences of these devices through replica `replica`;
    /// the HTTP status (202 when accepted).
    func licences(_ method: String, _ serials: [String], through replica: Int) async throws -> Int {
        try await Self.http(
            method,
            servers[replica] + "/v1/apps/\(Self.adamID)/licenses",
            apiKey,
            ["serialNumbers": serials]
        ).0
    }

    /// Enrolls `count` devices at mdmsim and waits until vpp knows them; their serial numbers and UDIDs.
    func enroll(_ count: Int, prefix: String) async throws -> [(serial: String, udid: String)] {
        let (status, body) = try await Self.http(
            "POST",
            mdmsim + "/sim/devices",
            nil,
            ["count": count, "serialPrefix": prefix]
        )
        #expect(status == 201)
        let made = try #require((body as? [String: Any])?["devices"] as? [[String: Any]]).map {
            (serial: $0["serialNumber"] as! String, udid: $0["udid"] as! String)
        }
        let serials = Set(made.map(\.serial))
        #expect(
            try await MDMDeploymentTests.eventually {
                try await MDMDeploymentTests.devices(self.servers[0], self.apiKey).filter {
                    serials.contains($0["serialNumber"] as? String ?? "") && $0["enrollment"] as? String == "enrolled"
                }.count == count
            },
            "vpp knows the \(count) devices"
        )
        return made
    }

    /// mdmsim's record of enrollment-set changes.
    func setChanges() async throws -> [[String: Any]] {
        try #require(try await Self.http("GET", mdmsim + "/sim/ddm/set-changes", nil, nil).1 as? [[String: Any]])
    }

    /// vppsim's licence log (associated / disassociated with times).
    func licenceLog() async throws -> [[String: Any]] {
        try #require(
            (try await Self.http("GET", sim + "/sim/licence-log", nil, nil).1 as? [String: Any])?["changes"]
                as? [[String: Any]]
        )
    }

    /// Two replicas whose devices' status stays in KMFDDM (mdmsim's `statusRoute: kmfddm`) and is read back every
    /// second: the deployment of the status read-back tests.
    static func readingStatusFromKMFDDM(databaseURL: String) async throws -> DeclarativeDeployment {
        try await DeclarativeDeployment(
            databaseURL: databaseURL,
            replicas: 2,
            licences: 20,
            settings: ["VPP_DECLARATION_STATUS_POLL_SECONDS": "1"],
            statusRoute: "kmfddm"
        )
    }

    /// After ``loseLicenceAtApple(_:_:sourceLocation:)``: the device reports `managed` again after exactly two
    /// evaluations (LicenseNotFound, then managed), vppsim associated its licence twice, and mdmsim saw one
    /// LicenseNotFound — healed once.
    func expectHealedOnce(_ serial: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let healed = try await MDMDeploymentTests.eventually(.seconds(120)) {
            appState(serial, in: try await declaredApps()).state == "managed"
        }
        let app = try await declaredApps()[serial]?.first
        #expect(healed, "healed: \(app ?? [:]) \(logs)", sourceLocation: sourceLocation)
        #expect(
            app?["evaluations"] as? Int == 2,
            "LicenseNotFound, then managed: two status rounds",
            sourceLocation: sourceLocation
        )
        let log = try await licenceLog()
        #expect(
            Self.licenceTimes(log, "associated")[serial]?.count == 2,
            "re-associated",
            sourceLocation: sourceLocation
        )
        #expect(try await ddmStats()["licenceNotFound"] as? Int == 1, sourceLocation: sourceLocation)
    }

    /// Takes the app's licence away at vppsim, as someone in Apple Business Manager would (`assignee` is
    /// `serialNumbers` or `clientUserIds`), and has mdmsim's devices evaluate a little later, so the next status
    /// report of the device (or user enrollment) says LicenseNotFound. Both answers must be 200.
    func loseLicenceAtApple(
        _ assignee: String,
        _ ids: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    )
        async throws
    {
        let deleted = try await Self.http(
            "DELETE",
            sim + "/sim/locations/\(location.uid)/assignments",
            nil,
            ["adamId": Self.adamID, assignee: ids]
        ).0
        #expect(deleted == 200, "vppsim deleted the licence", sourceLocation: sourceLocation)
        let slowed = try await Self.http("PUT", mdmsim + "/sim/ddm/config", nil, ["evaluationDelayMilliseconds": 300]).0
        #expect(slowed == 200, "mdmsim evaluates 300 ms later", sourceLocation: sourceLocation)
    }

    /// Each simulated device's apps managed by declaration, by serial number.
    func declaredApps() async throws -> [String: [[String: Any]]] {
        try #require(try await Self.http("GET", mdmsim + "/sim/ddm/devices", nil, nil).1 as? [String: [[String: Any]]])
    }

    /// The state a device reports for the app's declaration (nil: never evaluated), and whether it was removed.
    func appState(_ serial: String, in apps: [String: [[String: Any]]]) -> (state: String?, removed: Bool) {
        let item = apps[serial]?.first { $0["declarationIdentifier"] as? String == Self.declaration }
        return (item?["state"] as? String, item?["removed"] as? Bool ?? false)
    }

    /// No device was ever sent InstallApplication for the app: vpp manages it by declaration only.
    func expectNoInstallApplication(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for device in try await MDMDeploymentTests.simDevices(mdmsim) {
            #expect(
                MDMDeploymentTests.installs(device, adamID: Self.adamID).isEmpty,
                "no InstallApplication at \(device["serialNumber"] ?? "?")",
                sourceLocation: sourceLocation
            )
        }
    }

    func ddmStats() async throws -> [String: Any] {
        try #require(try await Self.http("GET", mdmsim + "/sim/ddm/stats", nil, nil).1 as? [String: Any])
    }

    /// vpp's declaration-set changes with the device's reported state (`vppctl declaration list --json`).
    func vppDeclarationRows() throws -> [[String: Any]] {
        let text = try run("vppctl", ["declaration", "list", "--json", "--tenant", "acme"], environment: env)
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
    }

    /// Changed joins (or leaves) per serial in mdmsim's record, for the app's set.
    static func changed(_ changes: [[String: Any]], _ kind: String) -> [String: [Double]] {
        var result: [String: [Double]] = [:]
        for change in changes
        where change["kind"] as? String == kind && change["changed"] as? Bool == true
            && change["set"] as? String == declaration
        {
            result[change["serialNumber"] as? String ?? "?", default: []].append(change["at"] as? Double ?? 0)
        }
        return result
    }

    /// Times vppsim logged `kind` (associated / disassociated) for the app, per serial.
    static func licenceTimes(_ log: [[String: Any]], _ kind: String) -> [String: [Double]] {
        var result: [String: [Double]] = [:]
        for entry in log where entry["kind"] as? String == kind && entry["adamId"] as? String == adamID {
            if let serial = entry["serialNumber"] as? String {
                result[serial, default: []].append(entry["at"] as! Double)
            }
        }
        return result
    }
}
