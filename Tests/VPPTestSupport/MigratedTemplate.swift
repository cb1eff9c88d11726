import Foundation
import PostgresNIO
import VPPPostgres
import VPPSQLStore

/// The migrated template database that PostgreSQL-backed tests clone instead of migrating each time.
///
/// Its name carries a checksum of every migration this build knows (`vpp_template_<fnv64>`), so a build with
/// a changed or added migration gets a new template and never clones a stale schema. It is built at most
/// once per test process (the first caller builds, the others await the same task) and at most once per
/// server across processes: the build runs under a session advisory lock, in a scratch database that is
/// renamed into place only when complete, so a half-migrated template can never be cloned. The template
/// refuses connections (`ALLOW_CONNECTIONS false`), because a session connected to it would make every
/// `CREATE DATABASE … TEMPLATE` fail.
public actor MigratedTemplate {
    /// One per test process.
    public static let shared = MigratedTemplate()

    /// Arbitrary but fixed, distinct from the migrator's lock: "vpp tmpl" as a 64-bit advisory lock key.
    static let advisoryLockKey: Int64 = 0x7670_7020_746D_706C

    private var building: [String: Task<String, any Error>] = [:]

    /// The template's name for `migrations`: a checksum of their versions, names and PostgreSQL statements.
    public static func name(for migrations: [SQLMigration] = allSQLMigrations) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: stable across processes, unlike Hasher.
        for migration in migrations {
            let text =
                "\(migration.version)\u{1}\(migration.name)\u{1}"
                + migration.statements(for: .postgres).joined(separator: "\u{2}")
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
        }
        return "vpp_template_" + String(hash, radix: 16)
    }

    /// The template on the server at `serverURL`, built first if it does not exist yet.
    public func name(serverURL: String) async throws -> String {
        if let task = building[serverURL] { return try await task.value }
        let task = Task { try await Self.ensure(Self.name(), serverURL: serverURL) }
        building[serverURL] = task
        do {
            return try await task.value
        } catch {
            building[serverURL] = nil  // let the next test try again rather than fail them all on one error
            throw error
        }
    }

    private static func ensure(_ template: String, serverURL: String) async throws -> String {
        let logger = TestDatabase.logger
        try await TestDatabase.withClient(url: serverURL) { admin in
            try await admin.withConnection { connection in
                // Session-level lock on this one connection: other processes wait here until the template exists.
                try await connection.query("SELECT pg_advisory_lock(\(advisoryLockKey))", logger: logger)
                do {
                    try await buildIfMissing(template, connection: connection, serverURL: serverURL)
                    try await connection.query("SELECT pg_advisory_unlock(\(advisoryLockKey))", logger: logger)
                } catch {
                    _ = try? await connection.query("SELECT pg_advisory_unlock(\(advisoryLockKey))", logger: logger)
                    throw error
                }
            }
        }
        return template
    }

    private static func buildIfMissing(
        _ template: String,
        connection: PostgresConnection,
        serverURL: String
    ) async throws {
        let logger = TestDatabase.logger
        let exists =
            try await connection.query(
                "SELECT count(*) FROM pg_database WHERE datname = \(template)",
                logger: logger
            ).collect().first?.decode(Int.self) ?? 0
        if exists > 0 { return }
        // A scratch name: a process killed mid-build leaves only a scratch database, never a partial template.
        let scratch = template + "_build"
        try await connection.query(
            PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(scratch) WITH (FORCE)"),
            logger: logger
        )
        try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(scratch)"), logger: logger)
        var components = URLComponents(string: serverURL)!
        components.path = "/\(scratch)"
        _ = try await TestDatabase.withClient(url: components.string!) { client in
            try await PostgresMigrator(logger: logger).migrate(client)
        }
        // The migrating client's connections close asynchronously; end any that linger so the rename succeeds.
        for attempt in 1...50 {
            try await connection.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(scratch)",
                logger: logger
            )
            do {
                try await connection.query(
                    PostgresQuery(unsafeSQL: "ALTER DATABASE \(scratch) RENAME TO \(template)"),
                    logger: logger
                )
                break
            } catch  where attempt < 50 {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        try await connection.query(
            PostgresQuery(unsafeSQL: "ALTER DATABASE \(template) WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"),
            logger: logger
        )
    }
}
