import Foundation
import Logging
import NIOCore
import SQLiteNIO
import VPPSQLStore

/// The shared SQL store's driver for SQLite: one connection per process, `BEGIN IMMEDIATE` transactions
/// (so a transaction that will write takes the write lock up front and never deadlocks on upgrade), WAL
/// journal and a busy timeout so another process (e.g. `vppctl` beside `vppd`) waits its turn.
public final class SQLiteSQLDatabase: SQLDatabase, Sendable {
    let connection: SQLiteConnection
    let gate = AsyncGate()
    public let path: String

    private init(connection: SQLiteConnection, path: String) {
        self.connection = connection
        self.path = path
    }

    /// Opens (creating when missing) the database file, its folder included.
    public static func open(path: String, logger: Logger) async throws -> SQLiteSQLDatabase {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        for pragma in [
            "PRAGMA journal_mode = WAL", "PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 10000",
            "PRAGMA synchronous = NORMAL",
        ] {
            _ = try await connection.query(pragma, [])
        }
        return SQLiteSQLDatabase(connection: connection, path: path)
    }

    public func close() async throws { try await connection.close() }

    public var dialect: SQLDialect {
        SQLDialect(skipLocked: "", greatest: "MAX", maxBindsPerStatement: 30_000)
    }

    /// `BEGIN IMMEDIATE` takes SQLite's write lock, which plays the part of PostgreSQL's advisory lock.
    public var migrationSeam: MigrationSeam {
        MigrationSeam(
            flavor: .sqlite,
            lock: nil,
            createBookkeeping: """
                CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,
                    applied_at INTEGER NOT NULL)
                """,
            bookkeepingExists:
                "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
            record: { version, name in
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(version), \(name), \(Date()))"
            }
        )
    }

    /// SQLite has no row-level security: `settings` (a tenant scope) change nothing here.
    public func transaction<T: Sendable>(
        _ settings: TransactionSettings,
        _ body: @Sendable (any SQLConnection) async throws -> T
    ) async throws -> T {
        await gate.lock()
        do {
            let wrapped = SQLiteSQLConnection(connection: connection)
            _ = try await wrapped.query("BEGIN IMMEDIATE")
            do {
                let result = try await body(wrapped)
                _ = try await wrapped.query("COMMIT")
                await gate.unlock()
                return result
            } catch {
                // Through the future, not the async overload: that one skips its work when the task is cancelled
                // (a sync that lost its lease is), which left the transaction open and every later BEGIN failing
                // with "cannot start a transaction within a transaction".
                let rollback: EventLoopFuture<[SQLiteRow]> = connection.query("ROLLBACK", [])
                _ = try? await rollback.get()
                throw error
            }
        } catch {
            await gate.unlock()
            throw error
        }
    }
}

struct SQLiteSQLConnection: SQLConnection {
    let connection: SQLiteConnection

    func query(_ query: SQLQuery) async throws -> [SQLRow] {
        let data: [SQLiteData] = query.binds.map { value in
            switch value {
            case .null: .null
            case .int(let v): .integer(SQLiteInt64(v))
            case .double(let v): .float(v)
            case .text(let v): .text(v)
            case .bool(let v): .integer(v ? 1 : 0)
            case .blob(let v): .blob(ByteBuffer(bytes: v))
            case .uuid(let v): .text(v.uuidString.lowercased())
            }
        }
        do {
            var columns: SQLColumns?
            return try await connection.query(query.sql { _ in "?" }, data).map { row in
                let names = columns ?? SQLColumns(row.columns.map(\.name))
                columns = names
                return SQLRow(
                    row.columns.map { column in
                        switch column.data {
                        case .integer(let v): .int(Int64(v))
                        case .float(let v): .double(v)
                        case .text(let v): .text(v)
                        case .blob(let v): .blob(Array(buffer: v))
                        case .null: .null
                        }
                    },
                    columns: names
                )
            }
        } catch let error as SQLiteError {
            throw Self.translate(error)
        }
    }

    static func translate(_ error: SQLiteError) -> SQLDriverError {
        switch error.reason {
        case .constraintUniqueFailed, .constraintPrimaryKeyFailed: .uniqueViolation(error.message)
        case .constraintForeignKeyFailed: .foreignKeyViolation(error.message)
        case .constraintCheckFailed, .constraintNotNullFailed: .checkViolation(error.message)
        case .constraint:
            error.message.contains("UNIQUE")
                ? .uniqueViolation(error.message)
                : error.message.contains("FOREIGN KEY")
                    ? .foreignKeyViolation(error.message) : .checkViolation(error.message)
        default: .other("SQLite: \(error.message)")
        }
    }
}
