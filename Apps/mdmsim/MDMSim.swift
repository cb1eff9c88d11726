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
                logger: logger
            )
            let host = self.host
            try await MDMSimulatorServer(simulator: simulator, logger: logger).run(host: host, port: port) { port in
                let banner = "mdmsim listening on http://\(host):\(port)  (NanoMDM API: http://\(host):\(port)"
                FileHandle.standardOutput.write(Data((banner + "/v1/enqueue/{id})\n").utf8))
            }
        }
    }
}
