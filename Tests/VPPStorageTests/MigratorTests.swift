import Foundation
import Logging
import PostgresNIO
import Testing
import VPPSQLStore
import VPPTestSupport

@testable import VPPPostgres

@Suite("PostgreSQL migrations")
struct MigratorTests {
    let migrator = PostgresMigrator(logger: TestDatabase.logger)

    @Test("the test run has a PostgreSQL server; without one this test fails rather than skips")
    func serverIsThere() async throws {
        let version = try await TestDatabase.withClient(url: try TestDatabase.serverURL()) { client in
            try await client.query("SHOW server_version_num", logger: TestDatabase.logger).collect().first!.decode(
                String.self
            )
        }
        #expect(Int(version)! >= 150_000)
    }

    @Test("migrates an empty database to the latest version, then finds nothing to do")
    func migratesOnce() async throws {
        try await TestDatabase.withFreshDatabase { client, _ in
            #expect(try await migrator.currentVersion(client) == 0)
            await #expect(throws: MigrationError.self) { try await migrator.requireCurrent(client) }
            let applied = try await migrator.migrate(client)
            #expect(applied == Array(1...migrator.latestVersion))
            #expect(try await migrator.migrate(client) == [])
            try await migrator.requireCurrent(client)
        }
    }

    @Test("ten servers migrating at once apply each migration exactly once")
    func concurrentStart() async throws {
        try await TestDatabase.withFreshDatabase { _, url in
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<10 {
                    // Separate clients, i.e. separate connections, as separate servers would have.
                    group.addTask { try await TestDatabase.withClient(url: url) { try await migrator.migrate($0) } }
                }
                return try await group.reduce(into: [Int]()) { $0 += $1 }
            }
            #expect(applied.sorted() == Array(1...migrator.latestVersion))
        }
    }

    @Test("a server refuses a database migrated past what it knows")
    func refusesNewerDatabase() async throws {
        try await TestDatabase.withFreshDatabase { client, _ in
            try await migrator.migrate(client)
            try await client.query(
                "INSERT INTO schema_migrations (version, name) VALUES (9999, 'from the future')",
                logger: TestDatabase.logger
            )
            do {
                try await migrator.requireCurrent(client)
                Issue.record("a database at version 9999 must be refused")
            } catch let error as MigrationError {
                guard case .databaseAhead(9999, migrator.latestVersion) = error else { throw error }
                #expect(error.description.contains("Upgrade vpp"))
            }
            await #expect(throws: MigrationError.self) { try await migrator.migrate(client) }
        }
    }

    @Test("database URLs: passwords never show, bad schemes are named")
    func urls() throws {
        #expect(PostgresURL.redacted("postgres://vpp:s3cret@db:5432/vpp") == "postgres://vpp:***@db:5432/vpp")
        #expect(throws: PostgresURLError.self) { try PostgresURL.configuration(from: "mysql://x@y/z") }
        do { _ = try PostgresURL.configuration(from: "mysql://u:s3cret@y/z") } catch {
            #expect(!"\(error)".contains("s3cret"))
        }
        let configuration = try PostgresURL.configuration(from: "postgresql://u:p%40ss@h:6543/db")
        #expect(
            configuration.host == "h" && configuration.port == 6543 && configuration.password == "p@ss"
                && configuration.database == "db"
        )
    }
}
