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
public struct VPPConfiguration: Sendable {
    public var databaseURL: String
    public var appleBaseURL: String
    /// Base64 of 32 bytes; a secret, never printed.
    public var encryptionKey: String?
    public var encryptionKeyFile: String?
    public var httpHost: String
    public var httpPort: Int
    public var publicURL: String?
    public var smtpURL: String?
    public var logLevel: Logger.Level
    /// Seconds between scheduled syncs of each token.
    public var syncInterval: TimeInterval

    public static let defaultFolder = ".vpp"

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        func value(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        databaseURL = value("VPP_DATABASE_URL") ?? "sqlite://\(Self.defaultFolder)/vpp.sqlite"
        appleBaseURL = value("VPP_APPLE_BASE_URL") ?? "https://vpp.itunes.apple.com/mdm/v2"
        encryptionKey = value("VPP_ENCRYPTION_KEY")
        encryptionKeyFile = value("VPP_ENCRYPTION_KEY_FILE")
        httpHost = value("VPP_HTTP_HOST") ?? "127.0.0.1"
        httpPort = value("VPP_HTTP_PORT").flatMap(Int.init) ?? 8080
        publicURL = value("VPP_PUBLIC_URL").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        smtpURL = value("VPP_SMTP_URL")
        logLevel = value("VPP_LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .info
        syncInterval = value("VPP_SYNC_INTERVAL").flatMap(TimeInterval.init) ?? 6 * 3600
    }

    public var isPostgres: Bool { databaseURL.hasPrefix("postgres://") || databaseURL.hasPrefix("postgresql://") }

    /// The SQLite file path of `sqlite://path` (relative) or `sqlite:///abs/path`.
    public var sqlitePath: String? {
        guard databaseURL.hasPrefix("sqlite://") else { return nil }
        return String(databaseURL.dropFirst("sqlite://".count))
    }
}
