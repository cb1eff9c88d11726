import Foundation
import Logging
import Synchronization
import VPPAppleClient
import VPPAppleSimulator
import VPPDomain
import VPPUseCases

/// Collects every log line, so tests can prove no secret is ever logged.
final class LogCapture: Sendable {
    let lines = Mutex<[String]>([])

    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label) { label in CapturingHandler(label: label, capture: self) }
        logger.logLevel = .trace
        return logger
    }

    var text: String { lines.withLock { $0.joined(separator: "\n") } }
}

struct CapturingHandler: LogHandler {
    let label: String
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        capture.lines.withLock { $0.append("\(event.level) \(event.message) \(all)") }
    }
}

let ourHolder = HolderIdentity(id: "vpp-tenant-1", name: "vpp", metadata: "mdm.example.com")

/// A simulator on a real port with one seeded location and token, and a client pointed at it.
struct Bench: Sendable {
    let running: RunningSimulator
    let locationUID: String
    let tokenText: String
    let client: HTTPAppleAppsAndBooksClient
    let logs: LogCapture

    var simulator: AppleSimulator { running.simulator }
    var credentials: AppleCredentials {
        AppleCredentials(token: ContentTokenSecret(unchecked: tokenText), expectedHolder: ourHolder)
    }
    var anonymousHolderCredentials: AppleCredentials {
        AppleCredentials(token: ContentTokenSecret(unchecked: tokenText), expectedHolder: nil)
    }

    static let defaultAssets = [
        SimAsset(
            adamId: "408709785",
            totalCount: 100,
            name: "Keynote",
            bundleId: "com.apple.iwork.keynote",
            version: "14.1"
        ),
        SimAsset(adamId: "361309726", productType: "Book", totalCount: 10, deviceAssignable: false),
    ]

    /// Starts a simulator (rate limit off unless asked), seeds `assets`, and builds a fast-retrying client.
    static func start(
        assets: [SimAsset] = Bench.defaultAssets,
        settings: (inout SimulatorSettings) -> Void = { _ in },
        client configure: (inout AppleClientConfiguration) -> Void = { _ in }
    ) async throws -> Bench {
        let logs = LogCapture()
        var simSettings = SimulatorSettings()
        simSettings.requestsPerSecond = nil
        simSettings.eventDelayMilliseconds = 5
        settings(&simSettings)
        let simulator = AppleSimulator(settings: simSettings, logger: logs.logger("vppsim"))
        let running = try await SimulatorServer(simulator: simulator, logger: logs.logger("vppsim.http")).start()
        let uid = await simulator.createLocation(name: "Main Campus", countryCode: "US", orgName: "Acme Schools")
        try await simulator.upsertAssets(assets, at: uid)
        let token = try await simulator.mintToken(for: uid, expiresAt: Date().addingTimeInterval(200 * 86_400))
        var configuration = AppleClientConfiguration(baseURL: running.appleBaseURL)
        configuration.initialBackoff = .milliseconds(10)
        configuration.maxBackoff = .milliseconds(100)
        configuration.requestTimeout = .seconds(5)
        configure(&configuration)
        let client = HTTPAppleAppsAndBooksClient(configuration: configuration, logger: logs.logger("vpp.apple"))
        return Bench(running: running, locationUID: uid, tokenText: token, client: client, logs: logs)
    }

    func stop() async { await running.stop() }

    /// Polls `status` until the event leaves PENDING.
    func waitForEvent(_ eventID: String, credentials: AppleCredentials? = nil) async throws -> AppleEventStatus {
        for _ in 0..<200 {
            let status = try await client.eventStatus(credentials ?? self.credentials, eventID: eventID)
            if status.state != .pending { return status }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw AppleAPIError.timeout
    }
}

/// Runs `body` with a started bench and always stops it.
@discardableResult
func withBench<T: Sendable>(
    assets: [SimAsset]? = nil,
    settings: (inout SimulatorSettings) -> Void = { _ in },
    client: (inout AppleClientConfiguration) -> Void = { _ in },
    _ body: (Bench) async throws -> T
) async throws -> T {
    let started = try await Bench.start(assets: assets ?? Bench.defaultAssets, settings: settings, client: client)
    do {
        let result = try await body(started)
        await started.stop()
        return result
    } catch {
        await started.stop()
        throw error
    }
}

func serials(_ count: Int, prefix: String = "SN") -> [String] {
    (0..<count).map { String(format: "\(prefix)%08d", $0) }
}
