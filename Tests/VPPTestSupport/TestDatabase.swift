import Foundation
import Logging
import PostgresNIO
import Testing
import VPPPostgres

/// A fresh, empty database on the PostgreSQL server that `Scripts/test.sh` started.
///
/// Tests that need Postgres FAIL when `VPP_TEST_DATABASE_URL` is missing: they never skip silently.
public enum TestDatabase {
    struct Missing: Error, CustomStringConvertible {
        let description =
            "VPP_TEST_DATABASE_URL is not set: run the tests with Scripts/test.sh, which starts PostgreSQL."
    }

    public static let logger: Logger = {
        var logger = Logger(label: "vpp.tests.postgres")
        logger.logLevel = .error
        return logger
    }()

    public static func serverURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["VPP_TEST_DATABASE_URL"], !url.isEmpty else {
            throw Missing()
        }
        return url
    }

    /// Creates a uniquely named database, runs `body` with a client connected to it and its URL, then drops it.
    public static func withFreshDatabase<T: Sendable>(
        _ body: @Sendable (PostgresClient, String) async throws -> T
    ) async throws -> T {
        try await withFreshDatabase(from: nil, body)
    }

    /// Like ``withFreshDatabase(_:)``, but the database is a clone of the migrated template (see
    /// ``MigratedTemplate``): every migration already applied, in one `CREATE DATABASE … TEMPLATE`.
    public static func withMigratedDatabase<T: Sendable>(
        _ body: @Sendable (PostgresClient, String) async throws -> T
    ) async throws -> T {
        let serverURL = try serverURL()
        let template = try await MigratedTemplate.shared.name(serverURL: serverURL)
        return try await withFreshDatabase(from: template, body)
    }

    /// ``withMigratedDatabase(_:)`` when `migrated`, else ``withFreshDatabase(_:)``.
    public static func withDatabase<T: Sendable>(
        migrated: Bool,
        _ body: @Sendable (PostgresClient, String) async throws -> T
    ) async throws -> T {
        migrated ? try await withMigratedDatabase(body) : try await withFreshDatabase(body)
    }

    /// Creates a uniquely named database copied from `template`, runs `body`, then drops it.
    static func withFreshDatabase<T: Sendable>(
        from template: String?,
        _ body: @Sendable (PostgresClient, String) async throws -> T
    ) async throws -> T {
        let serverURL = try serverURL()
        let name = "vpp_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        let clause = template.map { " TEMPLATE \($0)" } ?? ""
        _ = try await withClient(url: serverURL) { admin in
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)\(clause)"), logger: logger)
        }
        var components = URLComponents(string: serverURL)!
        components.path = "/\(name)"
        let url = components.string!
        do {
            let result = try await withClient(url: url) { try await body($0, url) }
            try await drop(name, serverURL: serverURL)
            return result
        } catch {
            try? await drop(name, serverURL: serverURL)
            throw error
        }
    }

    public static func withClient<T: Sendable>(
        url: String,
        _ body: @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        let client = PostgresClient(configuration: try PostgresURL.configuration(from: url), backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    static func drop(_ name: String, serverURL: String) async throws {
        _ = try await withClient(url: serverURL) { admin in
            try await admin.query(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"),
                logger: logger
            )
        }
    }
}
