import Foundation
import Logging
import PostgresNIO
import VPPSQLStore
import VPPUseCases

/// Why a database URL was refused.
public struct PostgresURLError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Turns `postgres://user:password@host:port/database?sslmode=…` into a client configuration.
///
/// The password never appears in errors or descriptions.
public enum PostgresURL {
    /// The client configuration of `text`, with a pool of at most `maxConnections` (`VPP_DATABASE_MAX_CONNECTIONS`).
    public static func configuration(
        from text: String,
        maxConnections: Int = 20
    ) throws -> PostgresClient.Configuration {
        let parts = try Parts(text)
        var configuration = PostgresClient.Configuration(
            host: parts.host,
            port: parts.port,
            username: parts.user,
            password: parts.password,
            database: parts.database,
            tls: parts.clientTLS
        )
        configuration.options.minimumConnections = 0
        configuration.options.maximumConnections = max(1, maxConnections)
        // A proxy that accepts and never answers must not hold a pool slot for the 10 s default.
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }

    /// A probe that opens one fresh connection (handshake, `SELECT 1`) and closes it: see ``DatabaseProbe``.
    /// An attempt that fails (refused, closed by a proxy with no server behind it, an error such as "the
    /// database system is starting up") says the database cannot serve. One still going after `timeout` gives
    /// no verdict (the probe answers "may serve"): a loaded machine's slow handshake must not turn into 503s,
    /// and a server that accepts and never answers is bounded by the request's deadline instead.
    public static func probe(
        _ text: String,
        timeout: Duration = .seconds(1),
        logger: Logger
    ) throws
        -> DatabaseProbe
    {
        let parts = try Parts(text)
        var configuration = PostgresConnection.Configuration(
            host: parts.host,
            port: parts.port,
            username: parts.user,
            password: parts.password,
            database: parts.database,
            tls: parts.connectionTLS
        )
        // Long enough that a slow connect ends as "no verdict" (the timer below), not as a failure.
        configuration.options.connectTimeout = .seconds(10)
        let settled = configuration
        return DatabaseProbe {
            let outcome = FirstOutcome<Bool>()
            let attempt = PostgresSQLDatabase.HeldConnection()
            // Unstructured on purpose: a server that accepts and never answers must not hold the caller past
            // `timeout`; the attempt is closed when it comes back late.
            Task {
                var answered = false
                if let connection = try? await PostgresConnection.connect(
                    configuration: settled,
                    id: 0,
                    logger: logger
                ) {
                    attempt.hold(connection)
                    if outcome.isSettled { try? await connection.close() }
                    answered = (try? await connection.query("SELECT 1", logger: logger).collect()) != nil
                    try? await connection.close()
                }
                outcome.settle(answered)
            }
            Task {
                try? await Task.sleep(for: timeout)
                outcome.settle(true)
                attempt.close()
            }
            return await outcome.value()
        }
    }

    /// The pieces of a `postgres://` URL.
    struct Parts {
        let host: String
        let port: Int
        let user: String
        let password: String?
        let database: String?
        let sslMode: String

        init(_ text: String) throws {
            guard let components = URLComponents(string: text),
                let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme)
            else {
                throw PostgresURLError(
                    description: "The database URL must be postgres://user:password@host:port/database "
                        + "(got \(redacted(text)))."
                )
            }
            guard let host = components.host, !host.isEmpty else {
                throw PostgresURLError(description: "The database URL \(redacted(text)) names no host.")
            }
            self.host = host
            port = components.port ?? 5432
            user = components.percentEncodedUser.flatMap { $0.removingPercentEncoding } ?? "postgres"
            password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
            let database = String(components.path.drop { $0 == "/" })
            self.database = database.isEmpty ? nil : database
            sslMode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
            guard ["disable", "prefer", "allow", "require", "verify-ca", "verify-full"].contains(sslMode) else {
                throw PostgresURLError(description: "Unknown sslmode \"\(sslMode)\" in the database URL.")
            }
        }

        var clientTLS: PostgresClient.Configuration.TLS {
            switch sslMode {
            case "prefer", "allow": .prefer(.makeClientConfiguration())
            case "require", "verify-ca", "verify-full": .require(.makeClientConfiguration())
            default: .disable
            }
        }

        var connectionTLS: PostgresConnection.Configuration.TLS {
            switch sslMode {
            case "prefer", "allow": (try? .prefer(.init(configuration: .makeClientConfiguration()))) ?? .disable
            case "require", "verify-ca", "verify-full":
                (try? .require(.init(configuration: .makeClientConfiguration()))) ?? .disable
            default: .disable
            }
        }
    }

    /// The URL with its password replaced by `***`, safe to log, also when the URL cannot be parsed (a
    /// libpq multi-host URL, a stray character): whatever lies between the scheme's `//` and the last `@`
    /// before the query is user information, and only its user name is kept; a `password=` query parameter
    /// is replaced too.
    public static func redacted(_ text: String) -> String {
        var text = text
        if let range = text.range(of: #"([?&])password=[^&]*"#, options: .regularExpression) {
            let separator = text[range].first.map(String.init) ?? "?"
            text.replaceSubrange(range, with: separator + "password=***")
        }
        if var components = URLComponents(string: text) {
            guard components.password != nil else { return text }
            components.password = "***"
            return components.string ?? "(unreadable URL)"
        }
        guard let start = text.range(of: "://")?.upperBound else {
            // Not a URL at all: it may still be "user:password@host"; keep nothing that could be a secret.
            return text.contains("@") || text.contains(":") ? "(unreadable URL)" : text
        }
        let rest = text[start...]
        guard let at = rest[..<(rest.firstIndex(of: "?") ?? rest.endIndex)].lastIndex(of: "@") else { return text }
        let userInfo = rest[..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<start]) + String(userInfo[..<colon]) + ":***" + String(rest[at...])
    }
}
