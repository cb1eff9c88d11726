import Foundation
import VPPDomain
import VPPUseCases

/// One tenant's unit of work. Every statement carries `tenant_id = ?` with this transaction's tenant:
/// ids from another tenant find nothing, change nothing and collide with nothing.
struct SQLTenantTransaction: TenantTransaction, Sendable {
    let connection: any SQLConnection
    let tenantID: TenantID
    let dialect: SQLDialect
    let clock: @Sendable () -> Date

    var tenant: SQLValue { .uuid(tenantID.rawValue) }

    /// Runs one statement, translating driver errors (`unique` says what a unique violation means here).
    @discardableResult
    func exec(_ query: SQLQuery, unique: ((String) -> StoreError)? = nil) async throws -> [SQLRow] {
        do {
            return try await connection.query(query)
        } catch let error as SQLDriverError {
            if let unique { throw SQLStore.translate(error, unique: unique) }
            throw SQLStore.translate(error)
        }
    }

    /// Multi-row insert of `rows` (tuples such as `"(\(tenantID), \(serial))"`), chunked by the dialect's bind cap.
    func insertMany(_ prefix: SQLQuery, rows: [SQLQuery], suffix: SQLQuery = "") async throws {
        do {
            try await connection.insertMany(prefix, rows: rows, suffix: suffix, dialect: dialect)
        } catch let error as SQLDriverError {
            throw SQLStore.translate(error)
        }
    }
}
