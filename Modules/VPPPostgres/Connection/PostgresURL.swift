import Foundation
import PostgresNIO

/// Why a database URL was refused.
public struct PostgresURLError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Turns `postgres://user:password@host:port/database?sslmode=…` into a client configuration.
///
/// The password never appears in errors or descriptions.
public enum PostgresURL {
    public static func configuration(from text: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme)
        else {
            throw PostgresURLError(description: "The database URL must start with postgres:// (got \(redacted(text))).")
        }
        guard let host = components.host, !host.isEmpty else {
            throw PostgresURLError(description: "The database URL \(redacted(text)) names no host.")
        }
        let user = components.percentEncodedUser.flatMap { $0.removingPercentEncoding } ?? "postgres"
        let password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        let database = String(components.path.drop { $0 == "/" })
        let sslMode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case "disable": tls = .disable
        case "prefer", "allow": tls = .prefer(.makeClientConfiguration())
        case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        default: throw PostgresURLError(description: "Unknown sslmode \"\(sslMode)\" in the database URL.")
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: password,
            database: database.isEmpty ? nil : database, tls: tls)
        configuration.options.minimumConnections = 0
        configuration.options.maximumConnections = 20
        return configuration
    }

    /// The URL with its password replaced by `***`, safe to log.
    public static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? "(unreadable URL)"
    }
}
