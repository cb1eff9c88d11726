import ArgumentParser
import Foundation
import Logging
import VPPMDMSimulator

/// `mdmsim`: a stand-in MDM server (NanoMDM's enqueue API and simulated devices) for tests, demos and benchmarks.
@main
struct MDMSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mdmsim",
        abstract:
            "A stand-in MDM server: NanoMDM's enqueue API plus simulated devices posting the MicroMDM-compatible "
            + "webhook.",
        discussion: """
            Admin API: POST /sim/devices {count, serialPrefix?, productName?} enrolls new devices; POST \
            /sim/devices/{serial}/checkout;
            POST /sim/devices/{serial}/enroll; GET /sim/devices; PUT /sim/config {webhookURL, hmacKey, \
            ackDelayMilliseconds};
            PUT /sim/faults {mode: none|down|slow|500|207, delayMilliseconds}; PUT /sim/behaviour {respond: \
            acknowledge|error|notnow|silent};
            GET /sim/stats.
            Declarative side (KMFDDM's API, Basic kmfddm:<the same API key>): PUT/GET /v1/declarations, GET/DELETE \
            /v1/declarations/{id}, POST /v1/declarations/{id}/touch, GET /v1/sets, GET/PUT/DELETE \
            /v1/set-declarations/{set}?declaration={id}, GET/PUT/DELETE /v1/enrollment-sets/{enrollmentId}?set={set}, \
            GET /v1/declaration-sets/{id}, GET /v1/declaration-status/{ids}, GET \
            /v1/status-report/{enrollmentId}?index=N. Devices in an app's set ask vppsim (--vppsim-url) for a \
            device licence, install or report Error.LicenseNotFound; KMFDDM keeps every status report, and devices \
            post them to --status-url too (route post), send them as webhook check-ins (webhook) or not (kmfddm). \
            Admin: PUT /sim/ddm/config {vppsimURL, statusURL, statusAPIKey, statusRoute: post|webhook|kmfddm, \
            evaluationDelayMilliseconds}; PUT /sim/ddm/faults {mode: none|lost|late|uninstalled, \
            delayMilliseconds, serials}; POST /sim/ddm/user-enrollments {udid, enrollmentId, clientUserId} (a user's \
            own enrollment on a device: it evaluates License.Assignment User declarations against the user's \
            licences); GET /sim/ddm/set-changes; GET /sim/ddm/devices; GET /sim/ddm/stats.
            """,
        subcommands: [Serve.self],
        defaultSubcommand: Serve.self
    )

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Serve until interrupted.")

        @Option(help: "Address to listen on.") var host = "127.0.0.1"
        @Option(help: "Port to listen on (0 picks a free one).") var port = 9200
        @Option(help: "File holding the API key (Basic user nanomdm); default: $MDMSIM_API_KEY or \"nanomdm\".")
        var apiKeyFile: String?
        @Option(help: "Where devices' webhook events go (vpp: <vppd>/mdm/webhook/<tenantId>).") var webhookURL: String?
        @Option(help: "File holding the webhook HMAC key (X-Hmac-Signature); none = unsigned.") var hmacKeyFile: String?
        @Option(help: "vppsim's base URL, asked whether a licence exists; default: $MDMSIM_VPPSIM_URL.")
        var vppsimURL: String?
        @Option(help: "vpp's base URL: devices POST status reports to <url>/v1/device-status/<enrollmentId>.")
        var statusURL: String?
        @Option(help: "File holding the vpp API key the status reports carry.") var statusAPIKeyFile: String?
        @Option(help: "Status reports: post (to vpp), webhook, or kmfddm (kept there only).") var statusRoute = "post"
        @Option(help: "Milliseconds before a device evaluates changed declarations.") var evaluationDelayMs = 200
        @Option(help: "Log level.") var logLevel = "info"

        func run() async throws {
            var logger = Logger(label: "mdmsim")
            logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            func read(_ path: String?) throws -> String? {
                try path.map {
                    try String(contentsOfFile: $0, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                }
            }
            let apiKey = try read(apiKeyFile) ?? ProcessInfo.processInfo.environment["MDMSIM_API_KEY"] ?? "nanomdm"
            let simulator = MDMSimulator(
                apiKey: apiKey,
                webhookURL: webhookURL,
                hmacKey: try read(hmacKeyFile),
                vppsimURL: vppsimURL ?? ProcessInfo.processInfo.environment["MDMSIM_VPPSIM_URL"],
                logger: logger
            )
            guard let route = DDMStatusRoute(rawValue: statusRoute) else {
                throw ValidationError("--status-route must be post, webhook or kmfddm")
            }
            await simulator.configureDDM(
                vppsimURL: nil,
                statusURL: statusURL,
                statusAPIKey: try read(statusAPIKeyFile),
                statusRoute: route,
                evaluationDelayMilliseconds: evaluationDelayMs
            )
            let host = self.host
            try await MDMSimulatorServer(simulator: simulator, logger: logger).run(host: host, port: port) { port in
                let banner = "mdmsim listening on http://\(host):\(port)  (NanoMDM API: http://\(host):\(port)"
                FileHandle.standardOutput.write(Data((banner + "/v1/enqueue/{id})\n").utf8))
            }
        }
    }
}
