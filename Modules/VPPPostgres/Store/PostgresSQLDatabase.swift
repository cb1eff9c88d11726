import Foundation
import Logging
import NIOCore
import PostgresNIO
import VPPSQLStore
import VPPUseCases

/// The shared SQL store's driver for PostgreSQL (PostgresNIO): each ``SQLQuery`` renders as `$n` placeholders
/// with `PostgresBindings` of the values' native types, and SQLSTATEs become ``SQLDriverError``s.
public struct PostgresSQLDatabase: SQLDatabase {
    let client: PostgresClient
    let logger: Logger
    /// Tells an unreachable database from a busy pool when a connection is slow to come (see AcquisitionDeadline).
    let reachability: TCPReachability?

    public init(client: PostgresClient, logger: Logger, reachability: TCPReachability? = nil) {
        self.client = client
        self.logger = logger
        self.reachability = reachability
    }

    public var dialect: SQLDialect {
        SQLDialect(
            skipLocked: "FOR UPDATE SKIP LOCKED", greatest: "GREATEST", maxBindsPerStatement: 60_000,
            scopeToTenant: { "SELECT set_config('vpp.tenant_id', \($0.description), true)" },
            analyzesBulkLoads: true)
    }

    /// Servers starting at once take turns on a transaction-scoped advisory lock ("vpp migrations" as 64 bits).
    public var migrationSeam: MigrationSeam {
        MigrationSeam(
            flavor: .postgres, lock: "SELECT pg_advisory_xact_lock(\(Int64(0x7670_705F_6D69_6772)))",
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
            })
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        do {
            let (client, logger, reachability) = (self.client, self.logger, self.reachability)
            // Without a reachability probe the wait is not bounded (a busy pool must not turn into 503s).
            let probe: @Sendable () async -> Bool = { await reachability?.check() ?? true }
            return try await AcquisitionDeadline.run(reachable: probe) { acquired in
                try await client.transaction(logger: logger) { connection in
                    acquired()
                    return try await body(PostgresSQLConnection(connection: connection, logger: logger))
                }
            }
        } catch let error as PSQLError {
            throw PostgresSQLConnection.translate(error)
        } catch let error as PostgresTransactionError {
            throw SQLDriverError.other(
                "transaction failed: \(error.commitError.map { String(describing: $0) } ?? "begin/rollback")")
        }
    }
}

struct PostgresSQLConnection: SQLConnection {
    let connection: PostgresConnection
    let logger: Logger

    func query(_ query: SQLQuery) async throws -> [SQLRow] {
        do {
            var rows: [SQLRow] = []
            var columns: SQLColumns?
            for try await row in try await connection.query(Self.postgresQuery(query), logger: logger) {
                let names = columns ?? SQLColumns(row.map(\.columnName))
                columns = names
                rows.append(SQLRow(try row.map(Self.value), columns: names))
            }
            return rows
        } catch let error as PSQLError {
            throw Self.translate(error)
        }
    }

    /// Renders through PostgresNIO's own interpolation: text stays text, each value becomes `$n` in
    /// `PostgresBindings` with its native type.
    static func postgresQuery(_ query: SQLQuery) -> PostgresQuery {
        var interpolation = PostgresQuery.StringInterpolation(
            literalCapacity: 0, interpolationCount: query.segments.count)
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
            separator: ": ")
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
