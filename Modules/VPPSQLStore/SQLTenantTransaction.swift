import Foundation
import VPPDomain
import VPPUseCases

/// One tenant's unit of work. Every statement carries `tenant_id = ?` with this transaction's tenant:
/// ids from another tenant find nothing, change nothing and collide with nothing.
struct SQLTenantTransaction: TenantTransaction {
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

    // MARK: API keys

    static func apiKey(_ row: SQLRow) throws -> APIKeyRecord {
        APIKeyRecord(
            id: try row.decode("key_id"),
            tenantID: try row.decode("tenant_id"),
            name: try row.decode("name"),
            role: Role(rawValue: try row.decode("role")) ?? .readOnly,
            keyHash: try row.decode("key_hash"),
            createdAt: try row.decode("created_at")
        )
    }

    func insertAPIKey(_ key: APIKeyRecord) async throws {
        try await exec(
            """
            INSERT INTO api_keys (tenant_id, key_id, name, role, key_hash, created_at)
            VALUES (\(tenantID), \(key.id), \(key.name), \(key.role.rawValue), \(key.keyHash), \(key.createdAt))
            """
        )
    }

    func apiKeys() async throws -> [APIKeyRecord] {
        try await exec(
            """
            SELECT tenant_id, key_id, name, role, key_hash, created_at FROM api_keys WHERE tenant_id = \(tenantID)
            ORDER BY created_at
            """
        ).map(Self.apiKey)
    }
}

/// JSON text for the few list-valued columns (platforms, recipients, installed apps).
enum JSONList {
    static func encode(_ list: [String]) -> SQLValue {
        .text(String(decoding: (try? JSONEncoder().encode(list)) ?? Data("[]".utf8), as: UTF8.self))
    }

    static func decode(_ text: String?) -> [String] {
        guard let text, let list = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else { return [] }
        return list
    }
}
