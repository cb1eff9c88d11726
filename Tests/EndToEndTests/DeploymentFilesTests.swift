import Foundation
import Testing

/// docker-compose.yml and the Dockerfile must agree with the apps (no Docker engine runs here, so the
/// files are checked, not started).
@Suite("Deployment files")
struct DeploymentFilesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// docker-compose.yml as JSON, parsed by PyYAML (YAML anchors resolved).
    static func compose() throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c", "import sys, json, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
            root.appendingPathComponent("docker-compose.yml").path,
        ]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        else {
            throw ProcessFailure(description: "docker-compose.yml does not parse")
        }
        return object
    }

    /// The settings vppd reads, from vppd itself (`--print-configuration` prints every one): a list kept here by
    /// hand went stale the first time a setting was added (`VPP_DATABASE_MAX_CONNECTIONS`).
    static func knownSettings() throws -> Set<String> {
        let printed = try run("vppd", ["--print-configuration"], environment: [:])
        return Set(
            printed.split(separator: "\n").compactMap { line in
                line.split(separator: "=", maxSplits: 1).first.map(String.init).flatMap {
                    $0.hasPrefix("VPP_") ? $0 : nil
                }
            }
        )
    }

    @Test(
        """
        postgres, two vppd replicas, vppsim and a mail sink, with health checks; commands, ports and settings \
        match the apps
        """
    )
    func composeMatchesApps() throws {
        let services = try #require(try Self.compose()["services"] as? [String: [String: Any]])
        for name in ["postgres", "vppd-1", "vppd-2", "vppsim", "mailsink"] {
            #expect(services[name]?["healthcheck"] != nil, "\(name) needs a health check")
        }
        let knownSettings = try Self.knownSettings()
        #expect(knownSettings.contains("VPP_DATABASE_MAX_CONNECTIONS"), "read from vppd: \(knownSettings.sorted())")
        let vppsimHelp = try run("vppsim", ["serve", "--help"], environment: [:])
        let simCommand = try #require(services["vppsim"]?["command"] as? [String])
        #expect(simCommand.prefix(2) == ["vppsim", "serve"])
        for flag in simCommand.filter({ $0.hasPrefix("--") }) {
            #expect(vppsimHelp.contains(flag), "vppsim serve has no \(flag)")
        }
        let simPort = try #require(simCommand.firstIndex(of: "--port").map { simCommand[$0 + 1] })
        let vppdHelp = try run("vppd", ["--help"], environment: [:])
        let ctlHelp = try run("vppctl", ["--help"], environment: [:])
        #expect((services["migrate"]?["command"] as? [String]) == ["vppctl", "migrate"] && ctlHelp.contains("migrate"))
        for name in ["vppd-1", "vppd-2"] {
            let service = try #require(services[name])
            #expect((service["command"] as? [String]) == ["vppd", "serve"] && vppdHelp.contains("serve"))
            #expect(service["image"] as? String == "vpp:local")
            let environment = try #require(service["environment"] as? [String: Any])
            #expect(
                Set(environment.keys).isSubset(of: knownSettings),
                "unknown settings: \(Set(environment.keys).subtracting(knownSettings))"
            )
            let port = "\(environment["VPP_HTTP_PORT"] ?? "")"
            #expect(
                (service["ports"] as? [String])?.allSatisfy { $0.hasSuffix(":\(port)") } == true,
                "published port matches VPP_HTTP_PORT"
            )
            #expect((environment["VPP_APPLE_BASE_URL"] as? String) == "http://vppsim:\(simPort)/mdm/v2")
            #expect(
                (environment["VPP_DATABASE_URL"] as? String)?.hasPrefix("postgres://vpp:vpp@postgres:5432/") == true
            )
            #expect(
                environment["VPP_ENCRYPTION_KEY_FILE"] != nil || environment["VPP_ENCRYPTION_KEY"] != nil,
                "a shared database needs a shared key"
            )
            let health = (service["healthcheck"] as? [String: Any])?["test"] as? [String]
            #expect(health?.last == "http://localhost:\(port)/readyz")
        }
    }

    @Test("the Dockerfile builds the three executables the compose file runs")
    func dockerfile() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("Dockerfile"), encoding: .utf8)
        for product in ["vppctl", "vppd", "vppsim"] { #expect(text.contains("--product \(product)")) }
        #expect(text.contains("curl"), "health checks use curl")
    }
}
