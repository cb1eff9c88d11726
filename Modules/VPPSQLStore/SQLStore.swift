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
        let holder = tenant.holderIdentity
        _ = try await run { connection in
            try await connection.query(
                """
                INSERT INTO tenants (tenant_id, name, holder_id, holder_name, holder_metadata, created_at)
                VALUES (\(tenant.id), \(tenant.name), \(holder.id), \(holder.name), \(holder.metadata), \(now))
                """
            )
        } unique: { _ in
            StoreError.duplicateTenant(tenant.name)
        }
    }

    public func tenant(_ id: TenantID) async throws -> Tenant? {
        try await tenants(where: "tenant_id = \(id)").first
    }

    public func tenant(named name: String) async throws -> Tenant? {
        try await tenants(where: "name = \(name)").first
    }

    public func tenant(holderID: String) async throws -> Tenant? {
        try await tenants(where: "holder_id = \(holderID)").first
    }

    public func tenants() async throws -> [Tenant] { try await tenants(where: "true") }

    private func tenants(where condition: SQLQuery) async throws -> [Tenant] {
        try await run { connection in
            try await connection.query(
                """
                SELECT tenant_id, name, holder_id, holder_name, holder_metadata FROM tenants
                WHERE \(fragment: condition) ORDER BY name
                """
            )
            .map { row in
                Tenant(
                    id: try row.decode("tenant_id"),
                    name: try row.decode("name"),
                    holderIdentity: HolderIdentity(
                        id: try row.decode("holder_id"),
                        name: try row.decode("holder_name"),
                        metadata: try row.decode("holder_metadata")
                    )
                )
            }
        }
    }

    public func apiKey(hash: String) async throws -> APIKeyRecord? {
        try await run { connection in
            try await connection.query(
                "SELECT tenant_id, key_id, name, role, key_hash, created_at FROM api_keys WHERE key_hash = \(hash)"
            )
            .first.map(SQLTenantTransaction.apiKey)
        }
    }

    public func tenantOwning(tokenID: TokenID) async throws -> TenantID? {
        try await run { connection in
            try await connection.query("SELECT tenant_id FROM tokens WHERE token_id = \(tokenID)").first.map {
                try $0.decode("tenant_id")
            }
        }
    }

    public func acquireLease(
        tenant: TenantID,
        name: String,
        owner: String,
        now: Date,
        ttl: TimeInterval
    ) async throws -> Bool {
        // A lease is a row of the jobs table that workers never claim (its run_at is far in the future).
        try await run { connection in
            try await !connection.query(
                """
                INSERT INTO jobs (tenant_id, job_id, kind, job_key, run_at, attempts, lease_owner, lease_until)
                VALUES (
                    \(tenant), \(UUID()), 'lease', \(name), \(Int64.max / 4), 0, \(owner),
                    \(now.addingTimeInterval(ttl)))
                ON CONFLICT (tenant_id, kind, job_key) DO UPDATE SET lease_owner = excluded.lease_owner,
                    lease_until = excluded.lease_until
                WHERE jobs.lease_until < \(now)
                RETURNING job_id
                """
            ).isEmpty
        }
    }

    public func renewLease(
        tenant: TenantID,
        name: String,
        owner: String,
        now: Date,
        ttl: TimeInterval
    ) async throws -> Bool {
        try await run { connection in
            try await !connection.query(
                """
                UPDATE jobs SET lease_until = \(now.addingTimeInterval(ttl))
                WHERE tenant_id = \(tenant) AND kind = 'lease' AND job_key = \(name) AND lease_owner = \(owner)
                RETURNING job_id
                """
            ).isEmpty
        }
    }

    public func releaseLease(tenant: TenantID, name: String, owner: String) async throws {
        _ = try await run { connection in
            try await connection.query(
                """
                DELETE FROM jobs WHERE tenant_id = \(tenant) AND kind = 'lease' AND job_key = \(name)
                AND lease_owner = \(owner)
                """
            )
        }
    }

    public func inTenant<T: Sendable>(
        _ tenant: TenantID,
        _ body: @Sendable (any TenantTransaction) async throws -> T
    ) async throws -> T {
        let dialect = database.dialect
        let clock = self.clock
        let idempotent = IdempotentRequest.current.flatMap { $0.tenantID == tenant ? $0 : nil }
        return try await run { connection in
            if let scope = dialect.scopeToTenant { try await connection.query(scope(tenant)) }
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
        _ body: @Sendable (any SQLConnection) async throws -> T,
        unique: (String) -> StoreError = { StoreError.constraintViolation($0) }
    ) async throws -> T {
        do {
            return try await database.transaction(body)
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
