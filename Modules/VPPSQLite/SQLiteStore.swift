import Foundation
import VPPSQLStore
import VPPUseCases

/// Builds the storage port on SQLite.
public enum SQLiteStore {
    public static func make(
        database: SQLiteSQLDatabase,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) -> any Store {
        SQLStore(database: database, clock: clock)
    }
}
