import Foundation
import VPPDomain
import VPPUseCases

/// The storage port on any ``SQLDatabase``: PostgreSQL and SQLite adapters supply the driver and the
/// schema; the queries live here once. Every tenant query names its tenant in its WHERE clause.
public struct SQLStore: Store {
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

    public func createTenant(_ tenant: Tenant) async throws {
        let now = clock()
        _ = try await run { connection in
            try await connection.query(
                "INSERT INTO tenants (tenant_id, name, holder_id, holder_name, holder_metadata, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                .uuid(tenant.id.rawValue), .text(tenant.name), .text(tenant.holderIdentity.id), .text(tenant.holderIdentity.name),
                .text(tenant.holderIdentity.metadata), .time(now))
        } unique: { _ in StoreError.duplicateTenant(tenant.name) }
    }

    public func tenant(_ id: TenantID) async throws -> Tenant? {
        try await tenants(where: "tenant_id = ?", .uuid(id.rawValue)).first
    }

    public func tenant(named name: String) async throws -> Tenant? {
        try await tenants(where: "name = ?", .text(name)).first
    }

    public func tenant(holderID: String) async throws -> Tenant? {
        try await tenants(where: "holder_id = ?", .text(holderID)).first
    }

    public func tenants() async throws -> [Tenant] { try await tenants(where: "1 = 1") }

    private func tenants(where condition: String, _ binds: SQLValue...) async throws -> [Tenant] {
        try await run { connection in
            try await connection.query("SELECT tenant_id, name, holder_id, holder_name, holder_metadata FROM tenants WHERE \(condition) ORDER BY name", binds)
                .map { row in
                    Tenant(id: TenantID(try row.uuid(0)), name: try row.text(1),
                           holderIdentity: HolderIdentity(id: try row.text(2), name: try row.text(3), metadata: try row.text(4)))
                }
        }
    }

    public func apiKey(hash: String) async throws -> APIKeyRecord? {
        try await run { connection in
            try await connection.query("SELECT tenant_id, key_id, name, role, key_hash, created_at FROM api_keys WHERE key_hash = ?", .text(hash))
                .first.map(SQLTenantTransaction.apiKey)
        }
    }

    public func tenantOwning(tokenID: TokenID) async throws -> TenantID? {
        try await run { connection in
            try await connection.query("SELECT tenant_id FROM tokens WHERE token_id = ?", .uuid(tokenID.rawValue)).first.map { TenantID(try $0.uuid(0)) }
        }
    }

    public func acquireLease(tenant: TenantID, name: String, owner: String, now: Date, ttl: TimeInterval) async throws -> Bool {
        // A lease is a row of the jobs table that workers never claim (its run_at is far in the future).
        try await run { connection in
            try await !connection.query(
                """
                INSERT INTO jobs (tenant_id, job_id, kind, job_key, run_at, attempts, lease_owner, lease_until)
                VALUES (?, ?, 'lease', ?, ?, 0, ?, ?)
                ON CONFLICT (tenant_id, kind, job_key) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
                WHERE jobs.lease_until < ?
                RETURNING job_id
                """,
                .uuid(tenant.rawValue), .uuid(UUID()), .text(name), .int(Int64.max / 4), .text(owner), .time(now.addingTimeInterval(ttl)),
                .time(now)).isEmpty
        }
    }

    public func releaseLease(tenant: TenantID, name: String, owner: String) async throws {
        _ = try await run { connection in
            try await connection.query("DELETE FROM jobs WHERE tenant_id = ? AND kind = 'lease' AND job_key = ? AND lease_owner = ?",
                                       .uuid(tenant.rawValue), .text(name), .text(owner))
        }
    }

    public func inTenant<T: Sendable>(_ tenant: TenantID, _ body: @Sendable (any TenantTransaction) async throws -> T) async throws -> T {
        let dialect = database.dialect
        let clock = self.clock
        return try await run { connection in
            if let scope = dialect.scopeToTenant { try await connection.query(scope, .text(tenant.description)) }
            return try await body(SQLTenantTransaction(connection: connection, tenantID: tenant, dialect: dialect, clock: clock))
        }
    }

    /// Runs `body` in a transaction, translating driver errors; `unique` maps a unique violation.
    func run<T: Sendable>(_ body: @Sendable (any SQLConnection) async throws -> T,
                          unique: (String) -> StoreError = { StoreError.constraintViolation($0) }) async throws -> T {
        do {
            return try await database.transaction(body)
        } catch let error as SQLDriverError {
            throw Self.translate(error, unique: unique)
        }
    }

    static func translate(_ error: SQLDriverError, unique: (String) -> StoreError = { StoreError.constraintViolation($0) }) -> any Error {
        switch error {
        case .uniqueViolation(let detail): unique(detail)
        case .foreignKeyViolation(let detail): StoreError.constraintViolation("it refers to something that does not exist (\(detail))")
        case .checkViolation(let detail): StoreError.constraintViolation(detail)
        case .decoding(let detail): StoreError.unavailable("unreadable row: \(detail)")
        case .other(let detail): StoreError.unavailable(detail)
        }
    }
}
