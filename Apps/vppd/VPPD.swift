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
            VPP_PUBLIC_URL, VPP_SMTP_URL, VPP_LOG_LEVEL and VPP_SYNC_INTERVAL (seconds). Any number of replicas may
            share one PostgreSQL database: background work is claimed from a shared job queue.
            """,
        subcommands: [Serve.self],
        defaultSubcommand: Serve.self
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the API and run the background workers until SIGTERM/SIGINT.")

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
            runtime = try await VPPRuntime.start(
                configuration, migrate: migrate || !configuration.isPostgres,
                appleObserver: metrics.appleCall, logger: logger)
        } catch {
            logger.critical("cannot start", metadata: ["reason": "\(error)"])
            throw ExitCode(1)
        }
        // Requests answer once their licences are reserved; the pump sends them to Apple in batches.
        var appServices = runtime.services
        let intentPump = LedgerIntentPump(services: runtime.services, logger: logger)
        if !noWorkers { appServices.intentScheduler = intentPump }
        let router = APIRouter.build(
            services: appServices,
            hooks: APIHooks(
                ready: { await runtime.databaseReady().mapError { $0 as any Error } },
                metrics: { metrics.render() }, onRequest: metrics.request),
            logger: logger)
        // The web console at /console/: pages over the same use cases; cookies Secure when reached over https.
        try await ConsoleRouter.add(
            to: router, services: appServices, hasher: BcryptPasswordHasher(),
            options: ConsoleOptions(secureCookies: configuration.publicURL?.hasPrefix("https://") ?? false),
            logger: logger)
        let (listenHost, listenPort) = (configuration.httpHost, configuration.httpPort)
        var services: [any Service] = []
        if !noWorkers {
            services.append(
                BackgroundWorkers(
                    services: runtime.services, interval: configuration.syncInterval, metrics: metrics, logger: logger))
        }
        if !noWorkers { services.append(MDMWorkPump(services: runtime.services, logger: logger)) }
        if !noWorkers { services.append(intentPump) }
        let bounds = ServerBounds(
            headerTimeout: .milliseconds(Int64(configuration.httpHeaderTimeout * 1000)),
            bodyTimeout: .milliseconds(Int64(configuration.httpBodyTimeout * 1000)),
            idleTimeout: .milliseconds(Int64(configuration.httpIdleTimeout * 1000)),
            maxConnections: configuration.httpMaxConnections)
        let app = Application(
            router: router,
            server: bounds.server,
            configuration: bounds.configuration(
                address: .hostname(configuration.httpHost, port: configuration.httpPort),
                serverName: "vppd", logger: logger),
            services: services,
            onServerRunning: { channel in
                // Machine-readable line for supervisors and tests that start vppd on port 0.
                FileHandle.standardOutput.write(
                    Data("vppd listening on http://\(listenHost):\(channel.localAddress?.port ?? listenPort)\n".utf8))
            },
            logger: logger)
        try await app.runService()
        await runtime.shutdown()
    }
}
