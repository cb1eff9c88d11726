import AsyncHTTPClient
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import VPPAppleClient
import VPPDomain
import VPPPostgres
import VPPSMTP
import VPPSQLStore
import VPPSQLite
import VPPSecrets
import VPPUseCases

/// Why the runtime could not start, in words an operator can act on.
public struct StartupError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The composition root shared by `vppctl` and `vppd`: opens the database named by the configuration,
/// checks (or applies) migrations, loads the encryption key, and builds the ports and the settings that
/// ``UseCases`` are built from (once per process: vppd's main, or vppctl's command).
public final class VPPRuntime: Sendable {
    public let ports: VPPPorts
    public let settings: UseCaseSettings
    public let configuration: VPPConfiguration
    public let logger: Logger
    private let postgres: PostgresClient?
    private let postgresTask: Task<Void, Never>?
    private let sqlite: SQLiteSQLDatabase?

    private init(
        ports: VPPPorts,
        settings: UseCaseSettings,
        configuration: VPPConfiguration,
        logger: Logger,
        postgres: PostgresClient?,
        postgresTask: Task<Void, Never>?,
        sqlite: SQLiteSQLDatabase?
    ) {
        self.ports = ports
        self.settings = settings
        self.configuration = configuration
        self.logger = logger
        self.postgres = postgres
        self.postgresTask = postgresTask
        self.sqlite = sqlite
    }

    /// Runs `body` with a started runtime (migrations checked or applied, the encryption key proved), the
    /// PostgreSQL client running in a child task of this call, as vppd's service group runs it. When `body`
    /// returns or throws, the client is shut down (its task cancelled, its connections closed) and awaited
    /// before this returns: nothing of the runtime outlives the call. The CLI runs each command this way.
    /// - Parameters:
    ///   - migrate: apply pending migrations (the embedded default always does; PostgreSQL refuses to go
    ///     on with pending migrations unless asked).
    public static func withRunning<Result>(
        _ configuration: VPPConfiguration,
        migrate: Bool,
        clock: any Clock = SystemClock(),
        appleObserver: (@Sendable (String, String) -> Void)? = nil,
        logger: Logger,
        _ body: (VPPRuntime) async throws -> Result
    ) async throws -> Result {
        try await requireReachable(configuration)
        let runtime = try await open(configuration, clock: clock, appleObserver: appleObserver, logger: logger)
        do {
            let result = try await running(runtime.postgres) {
                try await runtime.prepare(migrate: migrate)
                return try await body(runtime)
            }
            await runtime.shutdown()
            return result
        } catch {
            await runtime.shutdown()
            throw error
        }
    }

    /// Fails at once when PostgreSQL's address cannot be reached: the pool would retry for about a minute
    /// before giving up with a generic error, and a command should say what is wrong without the wait.
    static func requireReachable(_ configuration: VPPConfiguration) async throws {
        guard configuration.isPostgres else { return }
        let address = try PostgresURL.configuration(from: configuration.databaseURL)
        guard let host = address.host else { return }
        let port = address.port ?? 5432
        guard await TCPReachability(host: host, port: port, timeout: .seconds(3)).check() else {
            throw StartupError(
                "\(PostgresURL.redacted(configuration.databaseURL)): nothing answers at \(host):\(port) "
                    + "(is PostgreSQL running, and is VPP_DATABASE_URL right?)"
            )
        }
    }

    /// Runs `body` while `client` (if any) runs in a child task; then cancels that task (PostgresNIO closes
    /// its connections on cancellation) and waits for it, whether `body` returned or threw.
    ///
    /// `body` starts once the child has begun `run()`: a lease asked for before that waits anyway, but PostgresNIO
    /// warns about it on standard error, which broke vppctl's one-line failure output under load (CLIRuntimeTests).
    static func running<Result>(
        _ client: PostgresClient?,
        _ body: () async throws -> Result
    ) async throws -> Result {
        guard let client else { return try await body() }
        return try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { group in
            let started = AsyncStream<Void>.makeStream()
            group.addTask {
                started.continuation.finish()
                // Nothing suspends between the signal and run()'s first step, which marks the client running: the
                // window left is those few instructions, against the body's wake-up on another thread.
                await client.run()
            }
            for await _ in started.stream {}
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// A runtime that outlives the call, its PostgreSQL client in an unstructured task until ``shutdown()``.
    /// Only the benchmarks (vppbench) still use it: vppctl runs each command inside
    /// ``withRunning(_:migrate:clock:appleObserver:logger:_:)``, and vppd runs the client in its service group
    /// (``open(_:clock:appleObserver:logger:)``).
    /// - Parameters:
    ///   - migrate: apply pending migrations (the embedded default always does; servers on PostgreSQL
    ///     refuse to start with pending migrations unless asked).
    public static func start(
        _ configuration: VPPConfiguration,
        migrate: Bool,
        clock: any Clock = SystemClock(),
        appleObserver: (@Sendable (String, String) -> Void)? = nil,
        logger: Logger
    ) async throws -> VPPRuntime {
        let runtime = try await assemble(
            configuration,
            runClient: true,
            clock: clock,
            appleObserver: appleObserver,
            logger: logger
        )
        do {
            try await runtime.prepare(migrate: migrate)
        } catch {
            await runtime.shutdown()
            throw error
        }
        return runtime
    }

    /// Builds the runtime without touching PostgreSQL: its client is in ``lifecycle``, for the server's
    /// service group to run (swift-service-lifecycle starts and stops it with the server). Call
    /// ``prepare(migrate:)`` once that group runs, before serving. SQLite is opened and migrated here.
    public static func open(
        _ configuration: VPPConfiguration,
        clock: any Clock = SystemClock(),
        appleObserver: (@Sendable (String, String) -> Void)? = nil,
        logger: Logger
    ) async throws -> VPPRuntime {
        try await assemble(configuration, runClient: false, clock: clock, appleObserver: appleObserver, logger: logger)
    }

    /// The services the server's group runs for this runtime: the PostgreSQL client when there is one.
    public var lifecycle: [any Service] { postgresTask == nil ? postgres.map { [$0] } ?? [] : [] }

    /// Checks (or applies) PostgreSQL's migrations and proves the encryption key opens this deployment's
    /// secrets: what must hold before anything is served.
    public func prepare(migrate: Bool) async throws {
        if let postgres {
            let migrator = PostgresMigrator(logger: logger)
            do {
                if migrate { try await migrator.migrate(postgres) } else { try await migrator.requireCurrent(postgres) }
            } catch {
                throw StartupError("\(PostgresURL.redacted(configuration.databaseURL)): \(Self.describe(error))")
            }
        }
        do {
            // Prove the key opens this deployment's secrets before serving anything (see EncryptionKeyCheck).
            try await EncryptionKeyCheck(store: ports.store, secrets: ports.secrets, clock: ports.clock)
                .verify()
        } catch let error as WrongEncryptionKey {
            throw StartupError(error.description)
        }
    }

    private static func assemble(
        _ configuration: VPPConfiguration,
        runClient: Bool,
        clock: any Clock,
        appleObserver: (@Sendable (String, String) -> Void)?,
        logger: Logger
    ) async throws -> VPPRuntime {
        if let problem = configuration.databaseMaxConnectionsProblem { throw StartupError(problem) }
        let secrets = try loadSecrets(configuration)
        let store: any Store
        var postgres: PostgresClient?
        var postgresTask: Task<Void, Never>?
        var sqlite: SQLiteSQLDatabase?
        if configuration.isPostgres {
            let client = PostgresClient(
                configuration: try PostgresURL.configuration(
                    from: configuration.databaseURL,
                    maxConnections: configuration.databaseMaxConnections
                ),
                backgroundLogger: Self.databaseLogger(logger)
            )
            // The CLI's short-lived runtime runs the client itself; the server's service group runs it otherwise.
            if runClient { postgresTask = Task { await client.run() } }
            // A real connection attempt, not a TCP probe: behind HAProxy or PgBouncer the port always accepts.
            let probe = try PostgresURL.probe(configuration.databaseURL, logger: Self.databaseLogger(logger))
            store = PostgresStore.make(
                client: client,
                logger: Self.databaseLogger(logger),
                clock: { clock.now() },
                probe: probe
            )
            postgres = client
        } else if let path = configuration.sqlitePath {
            let database = try await SQLiteSQLDatabase.open(path: path, logger: logger)
            // The embedded default serves one machine: it migrates itself.
            try await SQLiteMigrator(logger: logger).migrate(database)
            store = SQLiteStore.make(database: database, clock: { clock.now() })
            sqlite = database
        } else {
            throw StartupError(
                "VPP_DATABASE_URL must start with postgres:// or sqlite:// (got "
                    + "\(PostgresURL.redacted(configuration.databaseURL)))."
            )
        }
        var appleConfiguration = AppleClientConfiguration(baseURL: configuration.appleBaseURL)
        appleConfiguration.requestTimeout = .seconds(30)
        appleConfiguration.observer = appleObserver
        let apple = HTTPAppleAppsAndBooksClient(
            configuration: appleConfiguration,
            limiter: store.requestLimiter,
            logger: logger
        )
        let settings = UseCaseSettings(configuration)
        let outbound = settings.outboundPolicy
        let mailer = try configuration.smtpURL.map { url in
            let smtp = try SMTPConfiguration(url: url)
            // The mail server gets the SMTP password: the outbound rule applies to it as to MDM servers.
            if let reason = outbound.refusal(smtpHost: smtp.host, port: smtp.port, encrypted: smtp.startTLS) {
                throw StartupError("VPP_SMTP_URL: vpp may not call the mail server: \(reason).")
            }
            return SMTPMailer(configuration: smtp)
        }
        let ports = VPPPorts(
            store: store,
            apple: apple,
            metadata: LegacyContentMetadataLookup(apple: apple),
            secrets: secrets,
            clock: clock,
            mailer: mailer,
            logger: logger
        )
        return VPPRuntime(
            ports: ports,
            settings: settings,
            configuration: configuration,
            logger: logger,
            postgres: postgres,
            postgresTask: postgresTask,
            sqlite: sqlite
        )
    }

    /// PostgresNIO logs whole rows (as hex) at trace level: its logger never goes below info, whatever
    /// VPP_LOG_LEVEL says, so row contents (serials, names) never reach the log.
    static func databaseLogger(_ logger: Logger) -> Logger {
        var capped = logger
        capped.logLevel = max(logger.logLevel, .info)
        return capped
    }

    /// Whether the database answers and is at this build's schema version (for `/readyz` and `doctor`).
    public func databaseReady() async -> Result<Int, StartupError> {
        do {
            if let postgres {
                let migrator = PostgresMigrator(logger: logger)
                // The whole check is bounded: an unreachable database answers "not ready" in under 2 s.
                try await AcquisitionDeadline.run(limit: .seconds(1)) { _ in try await migrator.requireCurrent(postgres)
                }
                return .success(migrator.latestVersion)
            }
            if let sqlite {
                let migrator = SQLiteMigrator(logger: logger)
                try await migrator.requireCurrent(sqlite)
                return .success(migrator.latestVersion)
            }
            return .failure(StartupError("no database"))
        } catch {
            return .failure(StartupError(Self.describe(error)))
        }
    }

    /// Applies pending migrations; returns the versions applied.
    public static func migrate(
        _ configuration: VPPConfiguration,
        logger: Logger
    ) async throws -> (applied: [Int], latest: Int) {
        if configuration.isPostgres {
            try await requireReachable(configuration)
            let client = PostgresClient(
                configuration: try PostgresURL.configuration(
                    from: configuration.databaseURL,
                    maxConnections: configuration.databaseMaxConnections
                ),
                backgroundLogger: Self.databaseLogger(logger)
            )
            let migrator = PostgresMigrator(logger: logger)
            return try await running(client) { (try await migrator.migrate(client), migrator.latestVersion) }
        }
        guard let path = configuration.sqlitePath else { throw StartupError("unsupported database URL") }
        let database = try await SQLiteSQLDatabase.open(path: path, logger: logger)
        let migrator = SQLiteMigrator(logger: logger)
        let applied = try await migrator.migrate(database)
        try await database.close()
        return (applied, migrator.latestVersion)
    }

    public func shutdown() async {
        postgresTask?.cancel()
        try? await sqlite?.close()
    }

    private static func loadSecrets(_ configuration: VPPConfiguration) throws -> AESGCMSecretBox {
        var previous: [[UInt8]] = []
        if let key = configuration.previousEncryptionKey {
            previous.append(try EncryptionKeyFile.decode(key, source: "VPP_ENCRYPTION_KEY_PREVIOUS"))
        }
        if let file = configuration.previousEncryptionKeyFile { previous.append(try EncryptionKeyFile.load(at: file)) }
        if let key = configuration.encryptionKey {
            return try AESGCMSecretBox(
                key: try EncryptionKeyFile.decode(key, source: "VPP_ENCRYPTION_KEY"),
                previousKeys: previous
            )
        }
        if let file = configuration.encryptionKeyFile {
            return try AESGCMSecretBox(key: try EncryptionKeyFile.load(at: file), previousKeys: previous)
        }
        guard let path = configuration.sqlitePath else {
            throw StartupError(
                "Set VPP_ENCRYPTION_KEY or VPP_ENCRYPTION_KEY_FILE: content tokens are encrypted at rest, and a "
                    + "shared database needs a shared key."
            )
        }
        let folder = (path as NSString).deletingLastPathComponent
        let keyPath = (folder.isEmpty ? "." : folder) + "/encryption.key"
        return try AESGCMSecretBox(key: try EncryptionKeyFile.loadOrCreate(at: keyPath).key)
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError { return "PostgreSQL: \(error.serverInfo?[.message] ?? "\(error.code)")" }
        return "\(error)"
    }
}
