import ArgumentParser
import Foundation
import Logging
import VPPAppleSimulator

/// `vppsim serve`: runs the simulator until interrupted.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve Apple's v2 API, the metadata lookup and the /sim admin API."
    )

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 9090
    @Option(help: "JSON seed file: locations, assets and tokens to create (token files are written beside it).")
    var seed: String?
    @Option(help: "Requests per second per location (0 = no limit).") var rateLimit: Double = 15
    @Option(help: "Log level.") var logLevel: String = "info"

    func run() async throws {
        var logger = Logger(label: "vppsim")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var settings = SimulatorSettings()
        settings.requestsPerSecond = rateLimit > 0 ? rateLimit : nil
        // Announce in service/config what is enforced, so clients pace themselves to it.
        settings.limits["maxRequestPerSecond"] = rateLimit > 0 ? Int(rateLimit.rounded(.up)) : 1000
        let simulator = AppleSimulator(settings: settings, logger: logger)
        if let seed {
            let url = URL(fileURLWithPath: seed)
            let decoded = try JSONDecoder().decode(SimulatorSeed.self, from: Data(contentsOf: url))
            let files = try await simulator.apply(decoded, baseDirectory: url.deletingLastPathComponent())
            for file in files { print("minted \(file)") }
        }
        try await SimulatorServer(simulator: simulator, logger: logger).run(host: host, port: port) { port in
            // Unbuffered, so supervisors and tests reading a pipe see it at once.
            FileHandle.standardOutput.write(
                Data(
                    "vppsim listening on http://\(host):\(port)  (Apple base URL: http://\(host):\(port)/mdm/v2)\n".utf8
                )
            )
        }
    }
}
