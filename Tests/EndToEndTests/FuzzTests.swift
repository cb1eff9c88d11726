import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import Testing
import VPPTestSupport

/// schemathesis against a live vppd and vppsim: positive and negative (schema-violating) data for every JSON
/// body, query and path parameter of the REST API, with a fixed seed and a bounded number of examples.
/// Asserts schemathesis's checks (no 5xx, documented statuses, content types and response schemas,
/// schema-violating requests refused) and vpp's own (Scripts/fuzz/vpp_checks.py: no database text in any
/// answer, every error body with its code and request id).
///
/// `positive_data_acceptance` is off: a schema-valid request may still be refused for what a schema cannot
/// say (a token file Apple must validate, a body over 256 KiB, devices that do not exist, one serial twice).
@Suite("End to end: schemathesis fuzz pass", .serialized)
struct FuzzTests {
    static let config = #"""
        [checks.negative_data_rejection]
        expected-statuses = ["400", "401", "403", "404", "405", "409", "413", "415", "422"]
        """#

    /// Runs schemathesis; returns its exit status and the end of its report.
    static func schemathesis(_ arguments: [String], config: URL) throws -> (Int32, String) {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", "-m", "schemathesis.cli", "--config-file", config.path, "run"] + arguments + [
                "--checks", "all", "--exclude-checks", "positive_data_acceptance", "--phases", "fuzzing", "--mode",
                "all",
                "--seed", "20261127", "--generation-allow-x00", "true", "--request-timeout", "20", "--no-color",
            ]
        process.environment = ProcessInfo.processInfo.environment.merging([
            "PYTHONPATH": root.appendingPathComponent("Scripts/fuzz").path, "SCHEMATHESIS_HOOKS": "vpp_checks",
        ]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let failures = text.components(separatedBy: "\n").filter { $0.hasPrefix("___") || $0.hasPrefix("- ") }.joined(
            separator: "\n"
        )
        let summary = text.range(of: "SUMMARY").map { String(text[$0.lowerBound...]) } ?? String(text.suffix(3000))
        return (process.terminationStatus, failures + "\n" + summary)
    }

    /// `vppctl … --json` prints the API's representation of the same thing: for tokens, apps, licences, devices,
    /// API keys and both reports the CLI's JSON equals the API's body (real processes on one database, before the
    /// fuzzer runs).
    static func cliMatchesAPI(url: String, key: String, upload: Any?, env: [String: String]) async throws {
        let http = TwoServersRaceTests.http
        let token = try #require(((upload as? [String: Any])?["token"] as? [String: Any])?["id"] as? String)
        #expect(try await http("POST", url + "/v1/tokens/\(token)/sync", key, nil).0 == 200)
        let assigned = try await http(
            "POST",
            url + "/v1/apps/408709785/licenses",
            key,
            ["serialNumbers": ["C02XK1JHJG5J"]]
        )
        #expect(assigned.0 == 202)
        // Listing keys needs a role that manages them.
        let ownerKey = try run(
            "vppctl",
            ["apikey", "create", "--tenant", "acme", "--role", "mdm-admin", "--name", "parity"],
            environment: env
        ).trimmingCharacters(in: .whitespacesAndNewlines)
        let list = { (noun: String) in [noun, "list", "--json"] }
        for (arguments, path) in [
            (list("token"), "/v1/tokens"), (list("app"), "/v1/apps"), (list("license"), "/v1/licenses"),
            (list("device"), "/v1/devices"), (list("apikey"), "/v1/api-keys"),
            (["report", "licenses", "--format", "json"], "/v1/reports/licenses"),
            (["report", "drift", "--format", "json"], "/v1/reports/drift"),
        ] {
            // The API first: a key's first use sets its lastUsedAt, which the CLI's listing then shows too.
            let (status, body) = try await http("GET", url + path, path == "/v1/api-keys" ? ownerKey : key, nil)
            let served = body as? [Any] ?? []
            let cli = try run("vppctl", arguments + ["--tenant", "acme"], environment: env)
            let printed = try JSONSerialization.jsonObject(with: Data(cli.utf8)) as? [Any] ?? []
            // Drift may rightly be empty here; every other listing has something to compare.
            #expect(status == 200 && (!served.isEmpty || path.hasSuffix("drift")), "\(path)")
            #expect(
                NSArray(array: printed).isEqual(to: served),
                "vppctl \(arguments.joined(separator: " ")): \(cli)\nGET \(path): \(served)"
            )
        }
    }

    @Test("every operation: no 5xx, no database text, documented answers, schema-violating requests refused")
    func fuzz() async throws {
        try await TestDatabase.withFreshDatabase { _, databaseURL in
            let http = TwoServersRaceTests.http
            let simulator = try ServerProcess(
                "vppsim",
                ["serve", "--port", "0", "--rate-limit", "0", "--log-level", "error"],
                environment: [:]
            )
            defer { simulator.stop() }
            let sim = try await simulator.waitForURL()
            let env = [
                "VPP_DATABASE_URL": databaseURL, "VPP_ENCRYPTION_KEY": HardeningProcessTests.newKey(),
                "VPP_APPLE_BASE_URL": sim + "/mdm/v2", "VPP_LOG_LEVEL": "error",
            ]
            _ = try run("vppctl", ["migrate"], environment: env)
            _ = try run("vppctl", ["tenant", "create", "acme"], environment: env)
            let key = try run(
                "vppctl",
                ["apikey", "create", "--tenant", "acme", "--role", "app-management", "--name", "fuzz"],
                environment: env
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            let owner = try run(
                "vppctl",
                ["apikey", "create", "--tenant", "acme", "--role", "mdm-admin", "--name", "owner"],
                environment: env
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            let server = try ServerProcess("vppd", ["serve", "--port", "0", "--no-workers"], environment: env)
            defer { server.stop() }
            let url = try await server.waitForURL()

            // Something to find: a token with an app, devices, a user.
            let (_, created) = try await http("POST", sim + "/sim/locations", nil, ["name": "Main Campus"])
            let uid = try #require((created as? [String: Any])?["uId"] as? String)
            _ = try await http(
                "POST",
                sim + "/sim/locations/\(uid)/assets",
                nil,
                ["adamId": "408709785", "totalCount": 50]
            )
            var mint = HTTPClientRequest(url: sim + "/sim/locations/\(uid)/tokens")
            mint.method = .POST
            let file = String(
                buffer: try await HTTPClient.shared.execute(mint, timeout: .seconds(10)).body.collect(upTo: 1 << 16)
            )
            let (uploaded, upload) = try await http("POST", url + "/v1/tokens", key, ["token": file])
            #expect(uploaded == 201)
            _ = try await http(
                "POST",
                url + "/v1/devices",
                key,
                ["devices": [["serialNumber": "C02XK1JHJG5J"], ["serialNumber": "00000000"]]]
            )
            try await Self.cliMatchesAPI(url: url, key: key, upload: upload, env: env)

            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vpp-fuzz-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let config = folder.appendingPathComponent("schemathesis.toml")
            try Self.config.write(to: config, atomically: true, encoding: .utf8)

            // Engineers' MDM and console operations are fuzzed by their own suites; API keys separately below
            // (an mdm-admin key would rotate itself away mid-run).
            let (status, report) = try Self.schemathesis(
                [
                    url + "/openapi.yaml", "-H", "Authorization: Bearer \(key)", "--max-examples", "25",
                    "--exclude-path-regex", "^/v1/api-keys|^/v1/mdm|^/mdm/|^/v1/device-commands|^/console",
                ],
                config: config
            )
            #expect(status == 0, "\(report)")
            let (keysStatus, keysReport) = try Self.schemathesis(
                [
                    url + "/openapi.yaml", "-H", "Authorization: Bearer \(owner)", "--max-examples", "25",
                    "--include-path", "/v1/api-keys",
                ],
                config: config
            )
            #expect(keysStatus == 0, "\(keysReport)")
            #expect(server.process.isRunning, "vppd is still up")
        }
    }
}
