import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import VPPConsole
import VPPHTTPAPI
import VPPUseCases

/// The HTTP application vppd serves, built in one place: the REST API and the console over one set of
/// use cases (built once, see ``UseCases``), behind the server bounds. vppd's main and the HTTP tests both
/// call ``application(_:)``, so the tests exercise the router, middleware and bounds production runs, not a
/// copy assembled by hand.
public enum VPPServer {
    /// What the application is built from.
    public struct Parts: Sendable {
        public var useCases: UseCases
        public var hooks: APIHooks
        public var bounds: ServerBounds
        public var host: String
        public var port: Int
        /// Cookies are `Secure` when the console is reached over https.
        public var consoleOptions: ConsoleOptions
        /// Run alongside the server and shut down with it, from the start (the database client).
        public var lifecycle: [any Service]
        /// Must succeed before the server listens (migrations, the encryption-key check); it may use the
        /// database, whose client already runs in ``lifecycle``.
        public var prepare: @Sendable () async throws -> Void = {}
        /// Background work: started only once ``prepare`` has succeeded, stopped with the server.
        public var workers: [any Service] = []
        /// Called with the bound port once the server listens (port 0 picks a free one).
        public var onServerRunning: @Sendable (Int) async -> Void
        public var logger: Logger

        public init(
            useCases: UseCases,
            hooks: APIHooks,
            bounds: ServerBounds = ServerBounds(),
            host: String = "127.0.0.1",
            port: Int = 0,
            consoleOptions: ConsoleOptions = ConsoleOptions(),
            lifecycle: [any Service] = [],
            onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in },
            logger: Logger
        ) {
            self.useCases = useCases
            self.hooks = hooks
            self.bounds = bounds
            self.host = host
            self.port = port
            self.consoleOptions = consoleOptions
            self.lifecycle = lifecycle
            self.onServerRunning = onServerRunning
            self.logger = logger
        }
    }

    /// The application: `/v1` and the probes from the API router, `/console/` from the console.
    public static func application(_ parts: Parts) async throws -> some ApplicationProtocol {
        let router = APIRouter.build(useCases: parts.useCases.api, hooks: parts.hooks, logger: parts.logger)
        try await ConsoleRouter.add(
            to: router,
            useCases: parts.useCases.console,
            options: parts.consoleOptions,
            logger: parts.logger
        )
        let (port, announce, prepare) = (parts.port, parts.onServerRunning, parts.prepare)
        let prepared = PreparedGate()
        var app = Application(
            router: router,
            server: parts.bounds.server,
            configuration: parts.bounds.configuration(
                address: .hostname(parts.host, port: parts.port),
                serverName: "vppd",
                logger: parts.logger
            ),
            services: parts.lifecycle + parts.workers.map { AfterPreparation(gate: prepared, service: $0) },
            onServerRunning: { channel in await announce(channel.localAddress?.port ?? port) },
            logger: parts.logger
        )
        app.beforeServerStarts {
            try await prepare()
            prepared.open()
        }
        return app
    }
}

/// Opens once preparation has succeeded; services waiting on it start then (or never, if it fails).
final class PreparedGate: Sendable {
    private let isOpen = Mutex(false)
    func open() { isOpen.withLock { $0 = true } }
    /// Returns once open; throws when cancelled (the group stops because preparation failed).
    func wait() async throws {
        while !isOpen.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(20)) }
    }
}

/// A background service that starts only after the server is prepared (no worker runs before migrations).
struct AfterPreparation: Service {
    let gate: PreparedGate
    let service: any Service

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await gate.wait() }
        } catch is CancellationError {
            return  // shut down before preparation finished: nothing was started
        }
        try await service.run()
    }
}

extension ServerBounds {
    /// The bounds `VPP_HTTP_*` configure.
    public init(_ configuration: VPPConfiguration) {
        self.init(
            headerTimeout: .milliseconds(Int64(configuration.httpHeaderTimeout * 1000)),
            bodyTimeout: .milliseconds(Int64(configuration.httpBodyTimeout * 1000)),
            idleTimeout: .milliseconds(Int64(configuration.httpIdleTimeout * 1000)),
            maxConnections: configuration.httpMaxConnections
        )
    }
}
