import Foundation
import PostgresNIO
import VPPPostgres
import VPPSQLStore
import VPPSQLite

/// Thin wrappers so tests can finish a partial migration on either database.
public enum VPPPostgresMigrate {
    public static func migrate(_ client: PostgresClient) async throws -> [Int] {
        try await PostgresMigrator(logger: TestDatabase.logger).migrate(client)
    }
}

public enum VPPSQLiteMigrate {
    public static func migrate(_ database: any SQLDatabase) async throws -> [Int] {
        guard let sqlite = database as? SQLiteSQLDatabase else { return [] }
        return try await SQLiteMigrator(logger: TestDatabase.logger).migrate(sqlite)
    }
}
