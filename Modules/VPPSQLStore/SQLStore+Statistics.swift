import Foundation
import VPPUseCases

extension SQLStore {
    /// The tables whose rows the hot paths look up by lists of keys (devices and users named in a request, their
    /// licences of an app), so whose statistics decide how those lookups are read.
    static let statisticsKept = ["assignments", "devices", "managed_users"]
    /// Growth below this many pages (128 KiB) never triggers an analysis: a table of a few rows is read whole.
    static let growthPages = 16

    /// PostgreSQL plans from statistics that autovacuum refreshes at most once a minute (`autovacuum_naptime`),
    /// and only past 10 % of change. A table that grows from nothing in seconds (a tenant's first 20,000
    /// licences, a device import) is meanwhile planned as nearly empty: the batch's read of which of 8 named
    /// devices hold the app already became an index range over all 10,000 of the app's licences with the
    /// serials as a filter (3.2 ms instead of 0.2, growing with the table), on every request.
    ///
    /// A table is analysed again once it has grown to twice its size at its last statistics (and by at least
    /// ``growthPages``): a young table's statistics stay within a factor of two of it, at a few analyses while it
    /// grows tenfold; churn without growth is left to autovacuum. Its size on disk is read, not the statistics
    /// views' change counters, which backends report up to seconds late. Replicas checking at once do not
    /// queue: an ANALYZE that would wait for another's lock is skipped. Tables the role does not own (only their
    /// owner may analyse them) are left to autovacuum.
    public func refreshStatistics() async throws -> [String] {
        guard database.dialect.analyzesBulkLoads else { return [] }
        let tables = Self.statisticsKept.map { "to_regclass('\($0)')" }.joined(separator: ", ")
        let stale = try await run { connection in
            try await connection.query(
                """
                SELECT relname AS name FROM pg_class WHERE oid IN (\(unescaped: tables))
                    AND pg_has_role(relowner, 'MEMBER')
                    AND pg_relation_size(oid) / current_setting('block_size')::bigint
                        >= greatest(2 * relpages, relpages + \(unescaped: String(Self.growthPages)))
                ORDER BY relname
                """
            ).map { try $0.decode("name", as: String.self) }
        }
        var refreshed: [String] = []
        for table in stale where Self.statisticsKept.contains(table) {
            do {
                try await run { connection in
                    try await connection.query("SET LOCAL lock_timeout = '50ms'")
                    try await connection.query("ANALYZE \(unescaped: table)")
                }
                refreshed.append(table)
            } catch {
                continue  // another server is analysing it (or the database is busy): the next check will see
            }
        }
        return refreshed
    }
}
