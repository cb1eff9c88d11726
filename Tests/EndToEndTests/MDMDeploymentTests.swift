import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import Testing
import VPPTestSupport

/// vpp inside an MDM deployment, all real processes: vppsim (Apple), mdmsim (NanoMDM and its devices) and two
/// vppd sharing PostgreSQL. Devices enroll through mdmsim's signed webhook; Apple-confirmed licences become
/// InstallApplication commands that reach each device once, are acknowledged and verified.
/// `Scripts/test.sh` runs this suite alone (ISOLATED): beside other suites, installs were not verified within
/// the test's bounds in 5 of 8 runs (see the comment there).
@Suite("End to end: vpp inside an MDM deployment", .serialized)
struct MDMDeploymentTests {
    static let http = TwoServersRaceTests.http
    static let adamID = "408709785"
    static let secondAdamID = "361285480"

    /// Polls `condition` until it holds or `timeout` passes; returns whether it held.
    static func eventually(
        _ timeout: Duration = .seconds(60),
        _ condition: () async throws -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(250))
        }
        return try await condition()
    }

    static func devices(_ server: String, _ key: String) async throws -> [[String: Any]] {
        try #require(try await http("GET", server + "/v1/devices", key, nil).1 as? [[String: Any]])
    }

    static func commands(_ server: String, _ key: String, state: String? = nil) async throws -> [[String: Any]] {
        var all: [[String: Any]] = []
        var after = ""
        while true {
            let url =
                server + "/v1/device-commands?limit=1000" + (state.map { "&state=\($0)" } ?? "")
                + (after.isEmpty ? "" : "&after=\(after)")
            let page = try #require(try await http("GET", url, key, nil).1 as? [String: Any])
            all += page["commands"] as? [[String: Any]] ?? []
            guard let next = page["next"] as? String else { return all }
            after = next
        }
    }

    static func simDevices(_ mdmsim: String) async throws -> [[String: Any]] {
        try #require(try await http("GET", mdmsim + "/sim/devices", nil, nil).1 as? [[String: Any]])
    }

    static func installs(_ device: [String: Any], adamID: String) -> [[String: Any]] {
        (device["commands"] as? [[String: Any]] ?? []).filter {
            $0["requestType"] as? String == "InstallApplication"
                && ($0["iTunesStoreID"] as? Int).map(String.init) == adamID
        }
    }

    static func assigned(_ sim: String, _ adamID: String) async throws -> Int {
        let locations = try #require(
            (try await http("GET", sim + "/sim/locations", nil, nil).1 as? [String: Any])?["locations"]
                as? [[String: Any]]
        )
        return locations.compactMap { ($0["assignedByAsset"] as? [String: Any])?["\(adamID)/STDQ"] as? Int }.reduce(
            0,
            +
        )
    }

    static func signedPost(_ url: String, body: Data, signature: String?) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        if let signature { request.headers.add(name: "X-Hmac-Signature", value: signature) }
        request.body = .bytes(ByteBuffer(data: body))
        return Int(try await HTTPClient.shared.execute(request, timeout: .seconds(10)).status.code)
    }

    @Test(
        "50 devices enroll; one verified install each; MDM down then every command once; forged webhook 401; checkout reclaims after grace"
    )
    func deployment() async throws {
        let http = Self.http
        try await TestDatabase.withFreshDatabase { _, databaseURL in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vpp-mdm-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let apiKeyFile = folder.appendingPathComponent("nanomdm.key").path
            let hmacKeyFile = folder.appendingPathComponent("hmac.key").path
            try "sim-api-\(UUID().uuidString)\n".write(toFile: apiKeyFile, atomically: true, encoding: .utf8)
            let hmacKey = "hmac-\(UUID().uuidString)"
            try hmacKey.write(toFile: hmacKeyFile, atomically: true, encoding: .utf8)

            let simulator = try ServerProcess(
                "vppsim",
                ["serve", "--port", "0", "--rate-limit", "0", "--log-level", "error"],
                environment: [:]
            )
            defer { simulator.stop() }
            let mdm = try ServerProcess(
                "mdmsim",
                [
                    "serve", "--port", "0", "--api-key-file", apiKeyFile, "--hmac-key-file", hmacKeyFile,
                    "--log-level", "error",
                ],
                environment: [:]
            )
            defer { mdm.stop() }
            let sim = try await simulator.waitForURL()
            let mdmsim = try await mdm.waitForURL()
            let portA = try ScenariosAcrossServersTests.freePort()
            let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            let env = [
                "VPP_DATABASE_URL": databaseURL, "VPP_ENCRYPTION_KEY": key, "VPP_APPLE_BASE_URL": sim + "/mdm/v2",
                "VPP_LOG_LEVEL": "warning",
                "VPP_PUBLIC_URL": "http://127.0.0.1:\(portA)",
            ]
            _ = try run("vppctl", ["migrate"], environment: env)
            _ = try run("vppctl", ["tenant", "create", "acme"], environment: env)
            let apiKey = try run(
                "vppctl",
                ["apikey", "create", "--role", "mdm-admin", "--tenant", "acme"],
                environment: env
            )
            .trimmingCharacters(in: .whitespacesAndNewlines)
            let connected = try run(
                "vppctl",
                [
                    "mdm", "connect", "nanomdm", "--url", mdmsim, "--api-key-file", apiKeyFile,
                    "--hmac-key-file", hmacKeyFile, "--reclaim-after", "3s", "--tenant", "acme",
                ],
                environment: env
            )
            #expect(!connected.contains(hmacKey) && !connected.contains("sim-api-"), "secrets are never printed")
            let show = try #require(
                try JSONSerialization.jsonObject(
                    with: Data(
                        try run(
                            "vppctl",
                            ["mdm", "show", "--json", "--tenant", "acme"],
                            environment: env
                        ).utf8
                    )
                ) as? [String: Any]
            )
            let webhookURL = try #require(show["webhookURL"] as? String)
            #expect(
                show["kind"] as? String == "nanomdm" && show["hasAPIKey"] as? Bool == true
                    && show["reclaimAfterSeconds"] as? Int == 3
            )
            #expect(try await http("PUT", mdmsim + "/sim/config", nil, ["webhookURL": webhookURL]).0 == 200)

            let a = try ServerProcess("vppd", ["serve", "--port", "\(portA)"], environment: env)
            let b = try ServerProcess("vppd", ["serve", "--port", "0"], environment: env)
            defer {
                a.stop()
                b.stop()
            }
            let serverA = try await a.waitForURL()
            let serverB = try await b.waitForURL()

            let location = try await SimulatedLocation.create(
                sim: sim,
                name: "Main Campus",
                apps: [(Self.adamID, 60), (Self.secondAdamID, 60)]
            )
            _ = try await Self.uploadAndSync(
                location.tokenFile,
                uploadTo: serverA,
                syncAt: serverB,
                apiKey: apiKey
            )

            // 1. Fifty devices enroll through mdmsim's signed webhook and join the inventory with their UDIDs.
            let (enrolledStatus, enrolledBody) = try await http(
                "POST",
                mdmsim + "/sim/devices",
                nil,
                ["count": 50, "serialPrefix": "SIM"]
            )
            #expect(enrolledStatus == 201)
            let simulated = try #require((enrolledBody as? [String: Any])?["devices"] as? [[String: Any]])
            let udids = Dictionary(
                uniqueKeysWithValues: simulated.map { ($0["serialNumber"] as! String, $0["udid"] as! String) }
            )
            #expect(
                try await Self.eventually {
                    let known = try await Self.devices(serverB, apiKey).filter {
                        $0["enrollment"] as? String == "enrolled"
                    }
                    return known.count == 50
                        && known.allSatisfy { udids[$0["serialNumber"] as? String ?? ""] == $0["udid"] as? String }
                },
                "50 devices enrolled with their UDIDs"
            )

            // 2. A forged webhook (wrong or no signature) is refused and changes nothing.
            let victim = try #require(simulated.first)
            let checkout = try JSONSerialization.data(withJSONObject: [
                "topic": "mdm.CheckOut", "event_id": "forged-1",
                "checkin_event": [
                    "udid": victim["udid"] as! String, "raw_payload": Data("<plist/>".utf8).base64EncodedString(),
                ],
            ])
            let before = try await Self.devices(serverA, apiKey).map { "\($0["serialNumber"]!)\($0["enrollment"]!)" }
                .sorted()
            #expect(
                try await Self.signedPost(
                    webhookURL,
                    body: checkout,
                    signature: Data(repeating: 7, count: 32).base64EncodedString()
                ) == 401
            )
            #expect(try await Self.signedPost(webhookURL, body: checkout, signature: nil) == 401)
            #expect(
                try await Self.signedPost(
                    serverA + "/mdm/webhook/\(UUID().uuidString.lowercased())",
                    body: checkout,
                    signature: nil
                ) == 401
            )
            try await Task.sleep(for: .seconds(3))
            #expect(
                try await Self.devices(serverA, apiKey).map { "\($0["serialNumber"]!)\($0["enrollment"]!)" }.sorted()
                    == before
            )

            // 3. One assignment across both servers -> Apple confirms -> one InstallApplication per device
            //    -> acknowledged -> verified.
            let serials = simulated.map { $0["serialNumber"] as! String }
            #expect(
                try await http("POST", serverB + "/v1/apps/\(Self.adamID)/licenses", apiKey, ["serialNumbers": serials])
                    .0 == 202
            )
            let allVerified = try await Self.eventually(.seconds(120)) {
                try await Self.commands(serverA, apiKey, state: "verified").filter {
                    $0["adamId"] as? String == Self.adamID
                }.count == 50
            }
            let sample = try await Self.commands(serverA, apiKey).prefix(3)
            #expect(
                allVerified,
                "every install verified: \(sample) \(a.log.suffix(3000)) \(b.log.suffix(3000)) \(mdm.log.suffix(2000))"
            )
            for device in try await Self.simDevices(mdmsim) {
                let installs = Self.installs(device, adamID: Self.adamID)
                #expect(installs.count == 1, "exactly one InstallApplication at \(device["udid"] ?? "?")")
                #expect(
                    installs.first?["purchaseMethod"] as? Int == 1 && installs.first?["managementFlags"] as? Int == 1
                )
            }

            // 4. The MDM server is down: commands stay queued and visible with their errors, then each arrives once.
            #expect(try await http("PUT", mdmsim + "/sim/faults", nil, ["mode": "down"]).0 == 200)
            let twenty = Array(serials.prefix(20))
            #expect(
                try await http(
                    "POST",
                    serverA + "/v1/apps/\(Self.secondAdamID)/licenses",
                    apiKey,
                    ["serialNumbers": twenty]
                ).0 == 202
            )
            #expect(
                try await Self.eventually(.seconds(60)) {
                    let waiting = try await Self.commands(serverB, apiKey, state: "queued").filter {
                        $0["adamId"] as? String == Self.secondAdamID
                    }
                    return waiting.count == 20
                        && waiting.allSatisfy {
                            ($0["attempts"] as? Int ?? 0) >= 2 && ($0["lastError"] as? String)?.contains("503") == true
                        }
                },
                "retries visible while the MDM server is down"
            )
            #expect(try await http("PUT", mdmsim + "/sim/faults", nil, ["mode": "none"]).0 == 200)
            #expect(
                try await Self.eventually(.seconds(120)) {
                    try await Self.commands(serverA, apiKey, state: "verified").filter {
                        $0["adamId"] as? String == Self.secondAdamID
                    }.count == 20
                },
                "every command arrived after the MDM server came back"
            )
            for device in try await Self.simDevices(mdmsim)
            where twenty.contains(device["serialNumber"] as? String ?? "") {
                #expect(Self.installs(device, adamID: Self.secondAdamID).count == 1)
            }

            // 5. Ten devices check out: after the 3 s grace period their licences go back to Apple through the ledger.
            #expect(try await Self.assigned(sim, Self.adamID) == 50)
            let leaving = Array(serials.suffix(10))
            for serial in leaving {
                #expect(try await http("POST", mdmsim + "/sim/devices/\(serial)/checkout", nil, nil).0 == 200)
            }
            let reclaimed = try await Self.eventually(.seconds(90)) { try await Self.assigned(sim, Self.adamID) == 40 }
            #expect(
                reclaimed,
                Comment(
                    rawValue: "the ten licences are revoked at Apple, the pool grows by ten: "
                        + "\(a.log.suffix(4000)) \(b.log.suffix(4000))"
                )
            )
            let unenrolled = try await Self.devices(serverA, apiKey).filter {
                $0["enrollment"] as? String == "unenrolled"
            }
            #expect(Set(unenrolled.compactMap { $0["serialNumber"] as? String }) == Set(leaving))
            #expect(!a.log.contains(hmacKey) && !b.log.contains(hmacKey), "the HMAC key is never logged")
        }
    }

    @Test(
        "a vppd killed with SIGKILL mid-delivery: another delivers the rest after the lease; each device still has one install"
    )
    func killedMidDelivery() async throws {
        let http = Self.http
        try await TestDatabase.withFreshDatabase { _, databaseURL in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vpp-mdm-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let apiKeyFile = folder.appendingPathComponent("nanomdm.key").path
            try "sim-api-key".write(toFile: apiKeyFile, atomically: true, encoding: .utf8)
            // Signed: vpp refuses device events from a connection without an HMAC key (issue 24).
            let hmacKeyFile = folder.appendingPathComponent("hmac.key").path
            try "kill-test-hmac-key".write(toFile: hmacKeyFile, atomically: true, encoding: .utf8)
            let simulator = try ServerProcess(
                "vppsim",
                ["serve", "--port", "0", "--rate-limit", "0", "--log-level", "error"],
                environment: [:]
            )
            defer { simulator.stop() }
            let mdm = try ServerProcess(
                "mdmsim",
                [
                    "serve", "--port", "0", "--api-key-file", apiKeyFile, "--hmac-key-file", hmacKeyFile,
                    "--log-level", "error",
                ],
                environment: [:]
            )
            defer { mdm.stop() }
            let sim = try await simulator.waitForURL()
            let mdmsim = try await mdm.waitForURL()
            let portA = try ScenariosAcrossServersTests.freePort()
            let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            let env = [
                "VPP_DATABASE_URL": databaseURL, "VPP_ENCRYPTION_KEY": key, "VPP_APPLE_BASE_URL": sim + "/mdm/v2",
                "VPP_LOG_LEVEL": "error", "VPP_PUBLIC_URL": "http://127.0.0.1:\(portA)",
            ]
            _ = try run("vppctl", ["migrate"], environment: env)
            _ = try run("vppctl", ["tenant", "create", "acme"], environment: env)
            let apiKey = try run(
                "vppctl",
                ["apikey", "create", "--role", "mdm-admin", "--tenant", "acme"],
                environment: env
            )
            .trimmingCharacters(in: .whitespacesAndNewlines)
            _ = try run(
                "vppctl",
                [
                    "mdm", "connect", "nanomdm", "--url", mdmsim, "--api-key-file", apiKeyFile, "--hmac-key-file",
                    hmacKeyFile, "--tenant", "acme",
                ],
                environment: env
            )
            let show = try #require(
                try JSONSerialization.jsonObject(
                    with: Data(
                        try run(
                            "vppctl",
                            ["mdm", "show", "--json", "--tenant", "acme"],
                            environment: env
                        ).utf8
                    )
                ) as? [String: Any]
            )
            _ = try await http(
                "PUT",
                mdmsim + "/sim/config",
                nil,
                ["webhookURL": try #require(show["webhookURL"] as? String)]
            )
            var a: ServerProcess? = try ServerProcess("vppd", ["serve", "--port", "\(portA)"], environment: env)
            defer { a?.stop() }
            let serverA = try await a!.waitForURL()

            let location = try await SimulatedLocation.create(
                sim: sim,
                name: "Main Campus",
                adamID: Self.adamID,
                licences: 30
            )
            _ = try await Self.uploadAndSync(
                location.tokenFile,
                uploadTo: serverA,
                syncAt: serverA,
                apiKey: apiKey
            )
            let enrolled = try await http("POST", mdmsim + "/sim/devices", nil, ["count": 24, "serialPrefix": "KIL"])
            let serials = try #require((enrolled.1 as? [String: Any])?["devices"] as? [[String: Any]]).map {
                $0["serialNumber"] as! String
            }
            #expect(
                try await Self.eventually {
                    try await Self.devices(serverA, apiKey).filter { $0["enrollment"] as? String == "enrolled" }.count
                        == 24
                }
            )

            // Every enqueue takes 700 ms: A is killed while its claimed batch is on the wire.
            _ = try await http("PUT", mdmsim + "/sim/faults", nil, ["mode": "slow", "delayMilliseconds": 700])
            #expect(
                try await http("POST", serverA + "/v1/apps/\(Self.adamID)/licenses", apiKey, ["serialNumbers": serials])
                    .0 == 202
            )
            #expect(
                try await Self.eventually(.seconds(60)) {
                    ((try await http("GET", mdmsim + "/sim/stats", nil, nil).1 as? [String: Any])?["enqueueRequests"]
                        as? Int ?? 0) >= 1
                }
            )
            kill(a!.process.processIdentifier, SIGKILL)
            a!.process.waitUntilExit()
            a = nil
            _ = try await http("PUT", mdmsim + "/sim/faults", nil, ["mode": "none"])
            let b = try ServerProcess("vppd", ["serve", "--port", "\(portA)"], environment: env)
            defer { b.stop() }
            let serverB = try await b.waitForURL()
            let done = try await Self.eventually(.seconds(150)) {
                try await Self.commands(serverB, apiKey, state: "verified").filter {
                    $0["adamId"] as? String == Self.adamID
                }.count == 24
            }
            let states = try await Self.commands(serverB, apiKey).map {
                "\($0["requestType"] ?? "") \($0["state"] ?? "") \($0["lastError"] ?? "")"
            }
            #expect(done, "every install verified after the kill: \(states)")
            for device in try await Self.simDevices(mdmsim) {
                #expect(
                    Self.installs(device, adamID: Self.adamID).count == 1,
                    "one install at \(device["serialNumber"] ?? "?")"
                )
            }
        }
    }

    /// Uploads a token file to one server and syncs it on another (or the same); the token's id.
    static func uploadAndSync(
        _ tokenFile: String,
        uploadTo upload: String,
        syncAt sync: String,
        apiKey: String
    ) async throws -> String {
        #expect(try await http("POST", upload + "/v1/tokens", apiKey, ["token": tokenFile]).0 == 201)
        let tokenID = try #require(
            (try await http("GET", sync + "/v1/tokens", apiKey, nil).1 as? [[String: Any]])?.first?["id"] as? String
        )
        #expect(try await http("POST", sync + "/v1/tokens/\(tokenID)/sync", apiKey, nil).0 == 200)
        return tokenID
    }
}
