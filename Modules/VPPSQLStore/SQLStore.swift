import Foundation
import VPPDomain
import VPPUseCases

/// The storage port on any ``SQLDatabase``: PostgreSQL and SQLite adapters supply the driver and the
/// schema; the queries live here once. Every tenant query names its tenant in its WHERE clause.
public struct SQLStore: Store, Sendable {
    let database: any SQLDatabase
    let clock: @Sendable () -> Date
    public let jobs: any JobQueue
    public let requestLimiter: any AppleRequestLimiter

    public init(database: any SQLDatabase, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.clock = clock
        self.jobs = SQLJobQueue(database: database)
        self.requestLimiter = SQLRequestLimiter(database: database)
    }

    public func inTenant<T: Sendable>(
        _ tenant: TenantID,
        _ body: @Sendable (any TenantTransaction) async throws -> T
    ) async throws -> T {
        let dialect = database.dialect
        let clock = self.clock
        let idempotent = IdempotentRequest.current.flatMap { $0.tenantID == tenant ? $0 : nil }
        return try await run(TransactionSettings(tenant: tenant)) { connection in
            var changesBefore: Int64 = 0
            if idempotent != nil, dialect.writeCheck == .changeCounter {
                changesBefore =
                    try await connection.query("SELECT total_changes() AS changes").first?.decode(
                        "changes"
                    ) ?? 0
            }
            let tx = SQLTenantTransaction(connection: connection, tenantID: tenant, dialect: dialect, clock: clock)
            let result = try await body(tx)
            if let idempotent {
                let wrote: SQLQuery =
                    switch dialect.writeCheck {
                    case .transactionID: "pg_current_xact_id_if_assigned() IS NOT NULL"
                    case .changeCounter: "total_changes() > \(changesBefore)"
                    }
                try await tx.markCarriedOut(idempotent, wrote: wrote)
            }
            return result
        }
    }

    /// Runs `body` in a transaction, translating driver errors; `unique` maps a unique violation.
    func run<T: Sendable>(
        _ settings: TransactionSettings = TransactionSettings(),
        _ body: @Sendable (any SQLConnection) async throws -> T,
        unique: (String) -> StoreError = { StoreError.constraintViolation($0) }
    ) async throws -> T {
        do {
            return try await database.transaction(settings, body)
        } catch let error as SQLDriverError {
            throw Self.translate(error, unique: unique)
        }
    }

    static func translate(
        _ error: SQLDriverError,
        unique: (String) -> StoreError = { StoreError.constraintViolation($0) }
    ) -> any Error {
        switch error {
        case .uniqueViolation(let detail): unique(detail)
        case .foreignKeyViolation(let detail):
            StoreError.constraintViolation("it refers to something that does not exist (\(detail))")
        case .checkViolation(let detail): StoreError.constraintViolation(detail)
        case .decoding(let detail): StoreError.unavailable("unreadable row: \(detail)")
        case .other(let detail): StoreError.unavailable(detail)
        }
    }
}
