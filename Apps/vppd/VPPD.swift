import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import VPPComposition
import VPPConsole
import VPPHTTPAPI
import VPPUseCases

/// `vppd`: the vpp HTTP server (REST API, Apple's notification webhook, background workers).
@main
struct VPPD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vppd",
        abstract: "The vpp server: REST API, Apple notification webhook and background workers.",
        discussion: """
            Reads VPP_DATABASE_URL, VPP_APPLE_BASE_URL, VPP_ENCRYPTION_KEY(_FILE), VPP_HTTP_HOST, VPP_HTTP_PORT,
            VPP_PUBLIC_URL, VPP_SMTP_URL, VPP_LOG_LEVEL, VPP_SYNC_INTERVAL (seconds), VPP_OUTBOUND_ALLOW,
            VPP_MDM_EVENT_RETENTION (seconds), VPP_DECLARATION_HEAL_ATTEMPTS (heals of a device's LicenseNotFound per
            licence, default 3), VPP_DECLARATION_STATUS_POLL_SECONDS (reads of an unsettled enrollment's status at
            KMFDDM, default 60), VPP_RESERVATION_BATCH (assignment requests sharing one reservation transaction,
            default 64) and VPP_REQUEST_DEADLINE_SECONDS (an API request's database deadline, default 10).
            Any number of replicas may share one PostgreSQL database: background work is claimed from a shared job
            queue.
            """,
        subcommands: [Serve.self],
        defaultSubcommand: Serve.self
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the API and run the background workers until SIGTERM/SIGINT."
    )

    @Option(help: "Address to listen on (default: $VPP_HTTP_HOST or 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on (default: $VPP_HTTP_PORT or 8080; 0 picks a free one).") var port: Int?
    @Option(help: "Database URL (default: $VPP_DATABASE_URL).") var databaseURL: String?
    @Flag(help: "Apply pending migrations at start (otherwise a server with pending migrations refuses to start).")
    var migrate = false
    @Flag(help: "Do not run background workers (API only).") var noWorkers = false
    @Flag(help: "Print the configuration in effect (secrets redacted) and exit.") var printConfiguration = false

    func run() async throws {
        // Flags win over the environment, which wins over the defaults: one reader (VPPConfiguration) decides.
        let flags = ["vpp.http.host": host, "vpp.http.port": port.map(String.init), "vpp.database.url": databaseURL]
        let configuration = VPPConfiguration(program: .server, flags: flags.compactMapValues { $0 })
        if printConfiguration {
            print(configuration)
            return
        }
        var logger = Logger(label: "vppd")
        logger.logLevel = configuration.logLevel
        logger.debug("configuration", metadata: ["settings": "\(configuration)"])
        let metrics = ServerMetrics()
        let runtime: VPPRuntime
        do {
            // PostgreSQL's client runs in the server's service group (runtime.lifecycle); prepare() below
            // migrates or checks the schema and the encryption key before the server listens.
            runtime = try await VPPRuntime.open(configuration, appleObserver: metrics.appleCall, logger: logger)
        } catch {
            logger.critical("cannot start", metadata: ["reason": "\(error)"])
            throw ExitCode(1)
        }
        // Every use case, built once (the composition root). Requests answer once their licences are
        // reserved; the pump sends them to Apple in batches.
        var intentPump: LedgerIntentPump?
        let useCases = UseCases(ports: runtime.ports, settings: runtime.settings) { intents in
            guard !noWorkers else { return nil }
            intentPump = LedgerIntentPump(intents: intents, logger: logger)
            return intentPump
        }
        var workers: [any Service] = []
        if let intentPump {
            workers.append(BackgroundWorkers(useCases: useCases, metrics: metrics, logger: logger))
            workers.append(MDMWorkPump(useCases: useCases, logger: logger))
            workers.append(intentPump)
        }
        let migrateAtStart = migrate || !configuration.isPostgres
        let listenHost = configuration.httpHost
        var hooks = APIHooks(
            ready: { await runtime.databaseReady().mapError { $0 as any Error } },
            metrics: { metrics.render() },
            onRequest: metrics.request
        )
        hooks.requestDeadline = .milliseconds(Int64(configuration.requestDeadline * 1000))
        var parts = VPPServer.Parts(
            useCases: useCases,
            hooks: hooks,
            bounds: ServerBounds(configuration),
            host: configuration.httpHost,
            port: configuration.httpPort,
            // The web console at /console/: cookies Secure when reached over https.
            consoleOptions: ConsoleOptions(secureCookies: configuration.publicURL?.hasPrefix("https://") ?? false),
            lifecycle: runtime.lifecycle,
            onServerRunning: { port in
                // Machine-readable line for supervisors and tests that start vppd on port 0.
                FileHandle.standardOutput.write(Data("vppd listening on http://\(listenHost):\(port)\n".utf8))
            },
            logger: logger
        )
        parts.workers = workers
        parts.prepare = { [logger] in
            do {
                try await runtime.prepare(migrate: migrateAtStart)
            } catch {
                logger.critical("cannot start", metadata: ["reason": "\(error)"])
                throw ExitCode(1)
            }
        }
        let app = try await VPPServer.application(parts)
        try await app.runService()
        await runtime.shutdown()
    }
}
