import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import VPPSQLStore
import VPPUseCases

/// The shared SQL store's driver for PostgreSQL (PostgresNIO): each ``SQLQuery`` renders as `$n` placeholders
/// with `PostgresBindings` of the values' native types, and SQLSTATEs become ``SQLDriverError``s.
public struct PostgresSQLDatabase: SQLDatabase {
    let client: PostgresClient
    let logger: Logger
    /// Tells a database that cannot serve from a busy pool when a connection is slow to come (see
    /// AcquisitionDeadline).
    let probe: DatabaseProbe?

    public init(client: PostgresClient, logger: Logger, probe: DatabaseProbe? = nil) {
        self.client = client
        self.logger = logger
        self.probe = probe
    }

    public var dialect: SQLDialect {
        SQLDialect(
            skipLocked: "FOR UPDATE SKIP LOCKED",
            greatest: "GREATEST",
            maxBindsPerStatement: 60_000,
            analyzesBulkLoads: true,
            gathersArrays: true,
            writeCheck: .transactionID
        )
    }

    /// Servers starting at once take turns on a transaction-scoped advisory lock ("vpp migrations" as 64 bits).
    public var migrationSeam: MigrationSeam {
        MigrationSeam(
            flavor: .postgres,
            lock: "SELECT pg_advisory_xact_lock(\(Int64(0x7670_705F_6D69_6772)))",
            createBookkeeping: """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """,
            bookkeepingExists: "SELECT 1 AS found WHERE to_regclass('schema_migrations') IS NOT NULL",
            record: { version, name in
                "INSERT INTO schema_migrations (version, name) VALUES (\(version), \(name))"
            }
        )
    }

    /// Runs `body` in a transaction. Under a ``WorkDeadline`` (an API request's), the wait for a connection and
    /// the transaction are bounded by it: PostgreSQL cancels a statement still running at the deadline
    /// (`statement_timeout`), nothing is committed once it has passed (the transaction rolls back instead), and
    /// a server that stopped answering has the connection closed under it shortly after; each is reported as
    /// an unavailable database.
    ///
    /// A connection the pool lends may have been closed by the server while it sat idle (every session of a
    /// primary at a failover, an idle-session timeout, a pooler restarting) before PostgresNIO has seen it go.
    /// BEGIN (or the settings after it) then fails with nothing of the unit of work done, and it begins again on
    /// another connection, up to ``begins`` times in all: one request per dead pooled session failed with 503
    /// after a failover before.
    public func transaction<T: Sendable>(
        _ settings: TransactionSettings,
        _ body: @Sendable (any SQLConnection) async throws -> T
    ) async throws -> T {
        var beginnings = 1
        while true {
            do {
                return try await attempt(settings, body)
            } catch let lost as ClosedBeforeBegin {
                guard beginnings < Self.begins else { throw lost.failure }
                // The pool learns of a close from the connection's close event, which may still be on its way:
                // begun again at once, the unit of work was lent the same dead connection three times running.
                try await Task.sleep(for: Self.beginAgainAfter * beginnings)
                beginnings += 1
                logger.info("a pooled database connection had closed; beginning again on another")
            }
        }
    }

    /// How many times a unit of work is begun at most when BEGIN meets closed connections (several pooled
    /// sessions may have died together).
    static let begins = 4
    /// How long before the first new beginning (the n-th waits n times as long).
    static let beginAgainAfter: Duration = .milliseconds(10)

    /// BEGIN or the transaction's settings failed because the connection was lost: nothing of the unit of work
    /// has run.
    struct ClosedBeforeBegin: Error {
        /// What the unit of work fails with if it is not begun again.
        let failure: any Error
    }

    /// Whether `error`, met by a statement on `connection`, says the connection is gone: the driver saw it
    /// closed, or the server ended the session (SQLSTATE class 57P: shut down, terminated by an administrator)
    /// or the connection (class 08).
    static func connectionLost(_ error: any Error, on connection: PostgresConnection) -> Bool {
        if connection.isClosed { return true }
        guard let error = error as? PSQLError else { return false }
        if [.serverClosedConnection, .connectionError, .uncleanShutdown].contains(error.code) { return true }
        let state = error.serverInfo?[.sqlState] ?? ""
        return state.hasPrefix("57P") || state.hasPrefix("08")
    }

    private func attempt<T: Sendable>(
        _ settings: TransactionSettings,
        _ body: @Sendable (any SQLConnection) async throws -> T
    ) async throws -> T {
        let deadline = WorkDeadline.current
        if let deadline, ContinuousClock.now >= deadline {
            throw SQLDriverError.other("the request's deadline passed before its transaction began")
        }
        do {
            let (client, logger, probe) = (self.client, self.logger, self.probe)
            let held = HeldConnection()
            let progress = WorkProgress.current
            progress?.record("waiting for a database connection")
            defer { progress?.record("transaction over") }
            // Without a probe the wait is not bounded below the ceiling (a busy pool must not turn into 503s).
            let reachable: @Sendable () async -> Bool = { await probe?.check() ?? true }
            return try await AcquisitionDeadline.run(deadline: deadline, reachable: reachable, expire: held.close) {
                acquired in
                // BEGIN and COMMIT by hand rather than PostgresClient.withTransaction: the connection must be in
                // hand before BEGIN, so a BEGIN stuck on a server that stopped answering can be closed under it.
                try await client.withConnection { connection in
                    held.hold(connection)
                    acquired()
                    progress?.record("BEGIN")
                    // BEGIN and the settings: nothing of the unit of work has run yet, so a connection found lost
                    // here is left and the unit of work begun again on another.
                    var begun = false
                    do {
                        try await Self.run("BEGIN", on: connection, logger: logger)
                        begun = true
                        // The server cancels a statement (a lock wait, a slow plan) still running at the deadline.
                        let timeout = deadline.map { max(1, Self.milliseconds($0 - ContinuousClock.now)) }
                        if let preamble = Self.preamble(settings, statementTimeout: timeout) {
                            try await Self.run(preamble, on: connection, logger: logger)
                        }
                    } catch {
                        // Only a transaction that began has anything to roll back: a ROLLBACK after a failed BEGIN
                        // waited up to its 2-s limit on a connection that had stopped answering (a request behind
                        // a stalled proxy answered 2.4 s past its deadline).
                        if begun { await Self.rollBack(connection, logger: logger) }
                        guard Self.connectionLost(error, on: connection) else { throw error }
                        throw ClosedBeforeBegin(failure: Self.translated(error))
                    }
                    do {
                        progress?.record("in a transaction")
                        let result = try await body(PostgresSQLConnection(connection: connection, logger: logger))
                        if let deadline, ContinuousClock.now >= deadline {
                            // The caller has been (or is about to be) told 503: this must not commit.
                            throw SQLDriverError.other(
                                "the request's deadline passed before its transaction committed"
                            )
                        }
                        progress?.record("COMMIT")
                        try await Self.run("COMMIT", on: connection, logger: logger)
                        progress?.record("committed")
                        return result
                    } catch {
                        // Rethrows the body's own error; a failed ROLLBACK (the connection is gone) changes nothing.
                        progress?.record("ROLLBACK after \(error)")
                        await Self.rollBack(connection, logger: logger)
                        progress?.record("rolled back")
                        throw error
                    }
                }
            }
        } catch let error as PSQLError {
            throw PostgresSQLConnection.translate(error)
        } catch let error as PostgresTransactionError {
            throw SQLDriverError.other(
                "transaction failed: \(error.commitError.map { String(describing: $0) } ?? "begin/rollback")"
            )
        }
    }

    /// The one statement that puts a transaction's settings in force (transaction-local), or nil when it has none.
    static func preamble(_ settings: TransactionSettings, statementTimeout milliseconds: Int64?) -> PostgresQuery? {
        var values: [(name: String, value: String)] = []
        if let milliseconds { values.append(("statement_timeout", String(milliseconds))) }
        if let tenant = settings.tenant { values.append(("vpp.tenant_id", tenant.description)) }
        guard !values.isEmpty else { return nil }
        var binds = PostgresBindings()
        var calls: [String] = []
        for (index, setting) in values.enumerated() {
            binds.append(setting.name)
            binds.append(setting.value)
            calls.append("set_config($\(2 * index + 1), $\(2 * index + 2), true)")
        }
        return PostgresQuery(unsafeSQL: "SELECT " + calls.joined(separator: ", "), binds: binds)
    }

    /// Runs a statement of the transaction's own (BEGIN, COMMIT, a setting) through the closed-connection guard.
    static func run(_ statement: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws {
        try await ClosedConnectionGuard.run(on: connection, logger: logger) {
            _ = try await connection.query(statement, logger: logger)
        }
    }

    /// A driver error as the store reports it (anything else unchanged).
    static func translated(_ error: any Error) -> any Error {
        (error as? PSQLError).map(PostgresSQLConnection.translate) ?? error
    }

    /// How long a ROLLBACK may take before its connection is closed instead.
    static let rollbackLimit: Duration = .seconds(2)

    /// Rolls back the transaction on `connection` after a failure, never waiting long: a connection already
    /// closed has nothing to roll back (the server ends the transaction with the session), and a ROLLBACK that
    /// has not returned within ``rollbackLimit`` has its connection closed (the pool replaces it).
    ///
    /// Awaiting ROLLBACK alone hung requests for good after a connection broke mid-COMMIT at a failover (seen in
    /// `Scripts/test-ha.sh` at the hard kill: the request never answered, and held its transaction's task).
    static func rollBack(_ connection: PostgresConnection, logger: Logger) async {
        guard !connection.isClosed else { return }
        let outcome = FirstOutcome<Bool>()
        // Unstructured on purpose: a ROLLBACK that never returns must not hold the caller.
        Task {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            outcome.settle(true)
        }
        Task {
            try? await Task.sleep(for: rollbackLimit)
            outcome.settle(false)
        }
        if await outcome.value() == false {
            logger.warning("ROLLBACK did not return; closing its connection")
            let closing: EventLoopFuture<Void> = connection.close()
            _ = closing
        }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// The connection a transaction holds, so the deadline's timer can close it under a query stuck on a server
    /// that no longer answers (PostgresNIO does not cancel a running query when its task is cancelled).
    final class HeldConnection: Sendable {
        private let connection = Mutex<PostgresConnection?>(nil)
        func hold(_ held: PostgresConnection) { connection.withLock { $0 = held } }
        @Sendable func close() {
            let closing: EventLoopFuture<Void>? = connection.withLock { $0 }?.close()
            _ = closing
        }
    }
}

struct PostgresSQLConnection: SQLConnection {
    let connection: PostgresConnection
    let logger: Logger

    func query(_ query: SQLQuery) async throws -> [SQLRow] {
        let (connection, logger) = (self.connection, self.logger)
        let statement = Self.postgresQuery(query)
        do {
            return try await ClosedConnectionGuard.run(on: connection, logger: logger) {
                var rows: [SQLRow] = []
                var columns: SQLColumns?
                for try await row in try await connection.query(statement, logger: logger) {
                    let names = columns ?? SQLColumns(row.map(\.columnName))
                    columns = names
                    rows.append(SQLRow(try row.map(Self.value), columns: names))
                }
                return rows
            }
        } catch let error as PSQLError {
            throw Self.translate(error)
        }
    }

    /// Renders through PostgresNIO's own interpolation: text stays text, each value becomes `$n` in
    /// `PostgresBindings` with its native type.
    static func postgresQuery(_ query: SQLQuery) -> PostgresQuery {
        var interpolation = PostgresQuery.StringInterpolation(
            literalCapacity: 0,
            interpolationCount: query.segments.count
        )
        for segment in query.segments {
            switch segment {
            case .sql(let text): interpolation.appendLiteral(text)
            case .bind(let value):
                switch value {
                case .null: interpolation.appendInterpolation(String?.none)
                case .int(let v): interpolation.appendInterpolation(v)
                case .double(let v): interpolation.appendInterpolation(v)
                case .text(let v): interpolation.appendInterpolation(v)
                case .bool(let v): interpolation.appendInterpolation(v)
                case .blob(let v): interpolation.appendInterpolation(ByteBuffer(bytes: v))
                case .uuid(let v): interpolation.appendInterpolation(v)
                }
            }
        }
        return PostgresQuery(stringInterpolation: interpolation)
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .bool: return .bool(try cell.decode(Bool.self))
        case .int2, .int4, .int8: return .int(try cell.decode(Int64.self))
        case .float4, .float8: return .double(try cell.decode(Double.self))
        case .uuid: return .uuid(try cell.decode(UUID.self))
        case .bytea: return .blob(Array(buffer: try cell.decode(ByteBuffer.self)))
        default: return .text(try cell.decode(String.self))
        }
    }

    static func translate(_ error: PSQLError) -> SQLDriverError {
        let state = error.serverInfo?[.sqlState] ?? ""
        let detail = [error.serverInfo?[.constraintName], error.serverInfo?[.message]].compactMap { $0 }.joined(
            separator: ": "
        )
        switch state {
        case "23505": return .uniqueViolation(detail)
        case "23503": return .foreignKeyViolation(detail)
        case "23514", "23502": return .checkViolation(detail)
        // A value PostgreSQL cannot store (NUL in text, an overflowing integer, an over-long value) and any other
        // integrity refusal is the request's fault, not an outage: never answered as a retryable 503.
        case _ where state.hasPrefix("22") || state.hasPrefix("23"): return .checkViolation(detail)
        default: return .other(detail.isEmpty ? "PostgreSQL error \(error.code)" : "PostgreSQL \(state): \(detail)")
        }
    }
}
