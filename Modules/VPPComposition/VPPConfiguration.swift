import Configuration
import Foundation
import Logging

/// vpp's settings, read in this one place through swift-configuration: flags override the environment,
/// which overrides the defaults. Every other part of vpp receives a `VPPConfiguration`, never the environment.
///
/// | key | default |
/// |---|---|
/// | `VPP_DATABASE_URL` | `sqlite://./.vpp/vpp.sqlite` (the embedded default) |
/// | `VPP_APPLE_BASE_URL` | `https://vpp.itunes.apple.com/mdm/v2` |
/// | `VPP_ENCRYPTION_KEY` / `VPP_ENCRYPTION_KEY_FILE` | key file `./.vpp/encryption.key`, created 0600 on first run |
/// | `VPP_HTTP_HOST` / `VPP_HTTP_PORT` | `127.0.0.1` / `8080` |
/// | `VPP_PUBLIC_URL` | none: Apple's notifications are not configured |
/// | `VPP_SMTP_URL` | none: notices stay queued |
/// | `VPP_LOG_LEVEL` | `info` for vppd, `warning` for vppctl (see ``Program``) |
/// | `VPP_ENCRYPTION_KEY_PREVIOUS` / `_FILE` | none: the old key, accepted for opening during a rotation |
/// | `VPP_HTTP_HEADER_TIMEOUT` / `VPP_HTTP_BODY_TIMEOUT` / `VPP_HTTP_IDLE_TIMEOUT` | `10` / `30` / `60` seconds |
/// | `VPP_HTTP_MAX_CONNECTIONS` | `512` |
/// | `VPP_REQUEST_DEADLINE_SECONDS` | `10` |
/// | `VPP_SYNC_INTERVAL` / `VPP_INTENT_LEASE_SECONDS` | `21600` / `60` seconds |
/// | `VPP_TENANT` | `default` (vppctl's tenant) |
/// | `VPP_OUTBOUND_ALLOW` | none: MDM, webhook and SMTP hosts must be public and reached over TLS |
/// | `VPP_MDM_EVENT_RETENTION` | `604800` seconds (7 days) |
/// | `VPP_DECLARATION_HEAL_ATTEMPTS` | `3` heals of a device's `Error.LicenseNotFound` per licence |
/// | `VPP_DECLARATION_STATUS_POLL_SECONDS` | `60` seconds between reads of an unsettled enrollment's status at KMFDDM |
/// | `VPP_RESERVATION_BATCH` | `64` requests sharing one reservation transaction (`1`: each alone) |
/// | `VPP_DATABASE_MAX_CONNECTIONS` | `20` PostgreSQL connections per server at most (1–1000) |
///
/// Secrets (the encryption keys, the passwords inside the database and SMTP URLs) are marked secret for
/// swift-configuration and never appear in ``description``: print or log the configuration freely.
public struct VPPConfiguration: Sendable, CustomStringConvertible {
    /// Which program reads the configuration: the one default that differs between them is the log level
    /// (a server reports its work at `info`; the CLI keeps stderr for warnings and errors).
    public enum Program: Sendable {
        case server, cli
        var defaultLogLevel: Logger.Level { self == .server ? .info : .warning }
    }

    /// A secret: the URL's password is replaced in ``description``.
    public var databaseURL: String
    public var appleBaseURL: String
    /// Base64 of 32 bytes; a secret, never printed.
    public var encryptionKey: String?
    public var encryptionKeyFile: String?
    /// The previous key (Base64), still accepted for opening secrets during a rotation; never printed.
    public var previousEncryptionKey: String?
    public var previousEncryptionKeyFile: String?
    /// HTTP server bounds: a request head must arrive within `httpHeaderTimeout` seconds, a body within
    /// `httpBodyTimeout`, an idle keep-alive connection closes after `httpIdleTimeout`; at most
    /// `httpMaxConnections` connections are open at once (more are closed at accept).
    public var httpHeaderTimeout: TimeInterval
    public var httpBodyTimeout: TimeInterval
    public var httpIdleTimeout: TimeInterval
    public var httpMaxConnections: Int
    /// Seconds an API request may spend waiting for the database and in its transactions, counted from its
    /// arrival; past it the answer is 503 with `Retry-After` and nothing of the request commits.
    public var requestDeadline: TimeInterval
    public var httpHost: String
    public var httpPort: Int
    public var publicURL: String?
    /// May carry a password: replaced in ``description``.
    public var smtpURL: String?
    public var logLevel: Logger.Level
    /// Seconds between scheduled syncs of each token.
    public var syncInterval: TimeInterval
    /// Seconds a worker's claim on queued Apple writes lasts (`VPP_INTENT_LEASE_SECONDS`): after a crash,
    /// another server resumes them within this long plus one worker tick.
    public var intentLease: TimeInterval
    /// vppctl's tenant (`VPP_TENANT`, `--tenant`).
    public var tenant: String
    /// Small licence reservations of one app that arrive together share one transaction, this many at most
    /// (`VPP_RESERVATION_BATCH`; 1: every request reserves in its own); see ``ReservationBatches``.
    public var reservationBatch: Int
    /// PostgreSQL connections each server's pool keeps at most (`VPP_DATABASE_MAX_CONNECTIONS`, 1–1000).
    public var databaseMaxConnections: Int
    /// Why `VPP_DATABASE_MAX_CONNECTIONS` was refused (not a whole number from 1 to 1000); a server with one
    /// does not start (``VPPRuntime`` says so), rather than run with a pool its operator did not ask for.
    public var databaseMaxConnectionsProblem: String?
    /// Hosts or `host:port` pairs vpp may call although they are internal, over plain http too
    /// (`VPP_OUTBOUND_ALLOW`, comma-separated); see ``OutboundPolicy``.
    public var outboundAllow: String?
    /// Seconds processed MDM webhook events are kept (`VPP_MDM_EVENT_RETENTION`); repeats within it are dropped.
    public var mdmEventRetention: TimeInterval
    /// Heals of a device's `Error.LicenseNotFound` per licence before its install shows failed
    /// (`VPP_DECLARATION_HEAL_ATTEMPTS`, 1–20).
    public var declarationHealAttempts: Int
    /// Seconds between reads of a not yet settled enrollment's declarative status at KMFDDM, doubled per read that
    /// found nothing new up to 16 times (`VPP_DECLARATION_STATUS_POLL_SECONDS`, at least 1).
    public var declarationStatusPollInterval: TimeInterval

    public static let defaultFolder = ".vpp"

    /// The environment variables whose values are secrets in full.
    static let secretVariables: Set<String> = ["VPP_ENCRYPTION_KEY", "VPP_ENCRYPTION_KEY_PREVIOUS"]

    /// Reads the configuration.
    /// - Parameters:
    ///   - flags: values given on the command line, by configuration key (`"vpp.database.url"`); they win.
    ///   - environment: the process environment (tests pass their own).
    public init(
        program: Program = .server,
        flags: [String: String] = [:],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        // Empty values count as unset, as they did before: `VPP_PUBLIC_URL=` in a compose file means "none".
        let setVariables = environment.filter { !$0.value.isEmpty }
        var flagValues: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in flags where !value.isEmpty {
            flagValues[AbsoluteConfigKey(ConfigKey(key))] = ConfigValue(.string(value), isSecret: true)
        }
        let reader = ConfigReader(providers: [
            InMemoryProvider(name: "flags", values: flagValues),
            EnvironmentVariablesProvider(
                environmentVariables: setVariables,
                secretsSpecifier: .dynamic { name, _ in
                    Self.secretVariables.contains(name) || name == "VPP_DATABASE_URL" || name == "VPP_SMTP_URL"
                }
            ),
        ])
        func text(_ key: String, secret: Bool = false) -> String? {
            reader.string(forKey: ConfigKey(key), isSecret: secret)
        }
        func number(_ key: String, _ fallback: Double) -> Double { text(key).flatMap(Double.init) ?? fallback }
        func integer(_ key: String, _ fallback: Int) -> Int { text(key).flatMap(Int.init) ?? fallback }

        databaseURL = text("vpp.database.url", secret: true) ?? "sqlite://\(Self.defaultFolder)/vpp.sqlite"
        appleBaseURL = text("vpp.apple.base.url") ?? "https://vpp.itunes.apple.com/mdm/v2"
        encryptionKey = text("vpp.encryption.key", secret: true)
        encryptionKeyFile = text("vpp.encryption.key.file")
        previousEncryptionKey = text("vpp.encryption.key.previous", secret: true)
        previousEncryptionKeyFile = text("vpp.encryption.key.previous.file")
        httpHeaderTimeout = number("vpp.http.header.timeout", 10)
        httpBodyTimeout = number("vpp.http.body.timeout", 30)
        httpIdleTimeout = number("vpp.http.idle.timeout", 60)
        httpMaxConnections = integer("vpp.http.max.connections", 512)
        requestDeadline = max(0.1, number("vpp.request.deadline.seconds", 10))
        httpHost = text("vpp.http.host") ?? "127.0.0.1"
        httpPort = integer("vpp.http.port", 8080)
        publicURL = text("vpp.public.url").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        smtpURL = text("vpp.smtp.url", secret: true)
        logLevel = text("vpp.log.level").flatMap(Logger.Level.init(rawValue:)) ?? program.defaultLogLevel
        syncInterval = number("vpp.sync.interval", 6 * 3600)
        intentLease = max(1, number("vpp.intent.lease.seconds", 60))
        tenant = text("vpp.tenant") ?? "default"
        reservationBatch = max(1, integer("vpp.reservation.batch", 64))
        outboundAllow = text("vpp.outbound.allow")
        (databaseMaxConnections, databaseMaxConnectionsProblem) = Self.poolSize(text("vpp.database.max.connections"))
        mdmEventRetention = max(60, number("vpp.mdm.event.retention", 7 * 86_400))
        declarationHealAttempts = min(20, max(1, integer("vpp.declaration.heal.attempts", 3)))
        declarationStatusPollInterval = max(1, number("vpp.declaration.status.poll.seconds", 60))
    }

    public var isPostgres: Bool { databaseURL.hasPrefix("postgres://") || databaseURL.hasPrefix("postgresql://") }

    /// The SQLite file path of `sqlite://path` (relative) or `sqlite:///abs/path`.
    public var sqlitePath: String? {
        guard databaseURL.hasPrefix("sqlite://") else { return nil }
        return String(databaseURL.dropFirst("sqlite://".count))
    }

    /// Every setting, one per line, with the secrets replaced: safe to print and to log.
    public var description: String {
        func secret(_ value: String?) -> String { value == nil ? "(none)" : "<redacted>" }
        let lines: [(String, String)] = [
            ("VPP_DATABASE_URL", Self.redactingPassword(databaseURL)),
            ("VPP_APPLE_BASE_URL", appleBaseURL),
            ("VPP_ENCRYPTION_KEY", secret(encryptionKey)),
            ("VPP_ENCRYPTION_KEY_FILE", encryptionKeyFile ?? "(none)"),
            ("VPP_ENCRYPTION_KEY_PREVIOUS", secret(previousEncryptionKey)),
            ("VPP_ENCRYPTION_KEY_PREVIOUS_FILE", previousEncryptionKeyFile ?? "(none)"),
            ("VPP_HTTP_HOST", httpHost), ("VPP_HTTP_PORT", "\(httpPort)"),
            ("VPP_HTTP_HEADER_TIMEOUT", "\(httpHeaderTimeout)"), ("VPP_HTTP_BODY_TIMEOUT", "\(httpBodyTimeout)"),
            ("VPP_HTTP_IDLE_TIMEOUT", "\(httpIdleTimeout)"), ("VPP_HTTP_MAX_CONNECTIONS", "\(httpMaxConnections)"),
            ("VPP_REQUEST_DEADLINE_SECONDS", "\(requestDeadline)"),
            ("VPP_PUBLIC_URL", publicURL ?? "(none)"),
            ("VPP_SMTP_URL", smtpURL.map(Self.redactingPassword) ?? "(none)"),
            ("VPP_LOG_LEVEL", logLevel.rawValue), ("VPP_SYNC_INTERVAL", "\(syncInterval)"),
            ("VPP_INTENT_LEASE_SECONDS", "\(intentLease)"), ("VPP_TENANT", tenant),
            ("VPP_OUTBOUND_ALLOW", outboundAllow ?? "(none)"), ("VPP_MDM_EVENT_RETENTION", "\(mdmEventRetention)"),
            ("VPP_DECLARATION_HEAL_ATTEMPTS", "\(declarationHealAttempts)"),
            ("VPP_DECLARATION_STATUS_POLL_SECONDS", "\(declarationStatusPollInterval)"),
            ("VPP_RESERVATION_BATCH", "\(reservationBatch)"),
            ("VPP_DATABASE_MAX_CONNECTIONS", "\(databaseMaxConnections)"),
        ]
        return lines.map { "\($0)=\($1)" }.joined(separator: "\n")
    }

    /// The pool size from its setting: the default when unset, else a whole number from 1 to 1000 or a problem.
    static func poolSize(_ text: String?) -> (Int, String?) {
        let fallback = 20
        guard let text else { return (fallback, nil) }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), (1...1000).contains(value) else {
            return (fallback, "VPP_DATABASE_MAX_CONNECTIONS must be a whole number from 1 to 1000, not \"\(text)\"")
        }
        return (value, nil)
    }

    /// `scheme://user:password@host/…` with the password (and any query, which may carry one) replaced.
    static func redactingPassword(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "<unparseable URL redacted>" }
        if components.password != nil { components.password = "redacted" }
        if components.query != nil { components.query = "redacted" }
        return components.string ?? "<redacted>"
    }
}
