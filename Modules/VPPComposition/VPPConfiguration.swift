import Foundation
import Logging

/// vpp's settings, read at the edge: flags override the environment, which overrides the defaults.
///
/// | key | default |
/// |---|---|
/// | `VPP_DATABASE_URL` | `sqlite://./.vpp/vpp.sqlite` (the embedded default) |
/// | `VPP_APPLE_BASE_URL` | `https://vpp.itunes.apple.com/mdm/v2` |
/// | `VPP_ENCRYPTION_KEY` / `VPP_ENCRYPTION_KEY_FILE` | key file `./.vpp/encryption.key`, created 0600 on first run |
/// | `VPP_HTTP_HOST` / `VPP_HTTP_PORT` | `127.0.0.1` / `8080` |
/// | `VPP_PUBLIC_URL` | none: Apple's notifications are not configured |
/// | `VPP_SMTP_URL` | none: notices stay queued |
/// | `VPP_LOG_LEVEL` | `info` |
/// | `VPP_ENCRYPTION_KEY_PREVIOUS` / `_FILE` | none: the old key, accepted for opening during a rotation |
/// | `VPP_HTTP_HEADER_TIMEOUT` / `VPP_HTTP_BODY_TIMEOUT` / `VPP_HTTP_IDLE_TIMEOUT` | `10` / `30` / `60` seconds |
/// | `VPP_HTTP_MAX_CONNECTIONS` | `512` |
public struct VPPConfiguration: Sendable {
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
    public var httpHost: String
    public var httpPort: Int
    public var publicURL: String?
    public var smtpURL: String?
    public var logLevel: Logger.Level
    /// Seconds between scheduled syncs of each token.
    public var syncInterval: TimeInterval
    /// Seconds a worker's claim on queued Apple writes lasts (`VPP_INTENT_LEASE_SECONDS`): after a crash,
    /// another server resumes them within this long plus one worker tick.
    public var intentLease: TimeInterval

    public static let defaultFolder = ".vpp"

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        func value(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        databaseURL = value("VPP_DATABASE_URL") ?? "sqlite://\(Self.defaultFolder)/vpp.sqlite"
        appleBaseURL = value("VPP_APPLE_BASE_URL") ?? "https://vpp.itunes.apple.com/mdm/v2"
        encryptionKey = value("VPP_ENCRYPTION_KEY")
        encryptionKeyFile = value("VPP_ENCRYPTION_KEY_FILE")
        previousEncryptionKey = value("VPP_ENCRYPTION_KEY_PREVIOUS")
        previousEncryptionKeyFile = value("VPP_ENCRYPTION_KEY_PREVIOUS_FILE")
        httpHeaderTimeout = value("VPP_HTTP_HEADER_TIMEOUT").flatMap(TimeInterval.init) ?? 10
        httpBodyTimeout = value("VPP_HTTP_BODY_TIMEOUT").flatMap(TimeInterval.init) ?? 30
        httpIdleTimeout = value("VPP_HTTP_IDLE_TIMEOUT").flatMap(TimeInterval.init) ?? 60
        httpMaxConnections = value("VPP_HTTP_MAX_CONNECTIONS").flatMap(Int.init) ?? 512
        httpHost = value("VPP_HTTP_HOST") ?? "127.0.0.1"
        httpPort = value("VPP_HTTP_PORT").flatMap(Int.init) ?? 8080
        publicURL = value("VPP_PUBLIC_URL").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        smtpURL = value("VPP_SMTP_URL")
        logLevel = value("VPP_LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .info
        syncInterval = value("VPP_SYNC_INTERVAL").flatMap(TimeInterval.init) ?? 6 * 3600
        intentLease = value("VPP_INTENT_LEASE_SECONDS").flatMap(TimeInterval.init).map { max(1, $0) } ?? 60
    }

    public var isPostgres: Bool { databaseURL.hasPrefix("postgres://") || databaseURL.hasPrefix("postgresql://") }

    /// The SQLite file path of `sqlite://path` (relative) or `sqlite:///abs/path`.
    public var sqlitePath: String? {
        guard databaseURL.hasPrefix("sqlite://") else { return nil }
        return String(databaseURL.dropFirst("sqlite://".count))
    }
}
