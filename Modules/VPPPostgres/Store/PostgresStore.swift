import Foundation
import Logging
import PostgresNIO
import VPPSQLStore
import VPPUseCases

/// Builds the storage port on PostgreSQL.
public enum PostgresStore {
    public static func make(
        client: PostgresClient,
        logger: Logger,
        clock: @escaping @Sendable () -> Date = { Date() },
        probe: DatabaseProbe? = nil
    ) -> any Store {
        SQLStore(database: PostgresSQLDatabase(client: client, logger: logger, probe: probe), clock: clock)
    }
}
