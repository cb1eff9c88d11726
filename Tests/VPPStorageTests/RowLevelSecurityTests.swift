import Foundation
import Logging
import PostgresNIO
import Testing
import VPPDomain
import VPPPostgres
import VPPSQLStore
import VPPTestSupport
import VPPUseCases

/// The second wall: even a query without a tenant condition sees only the current tenant's rows,
/// when the store connects as an ordinary role (superusers bypass row-level security).
@Suite("PostgreSQL row-level security")
struct RowLevelSecurityTests {
    @Test("inside a tenant's unit of work, other tenants' rows are invisible and unwritable")
    func secondWall() async throws {
        try await TestDatabase.withFreshDatabase { admin, url in
            try await PostgresMigrator(logger: TestDatabase.logger).migrate(admin)
            let role = "vpp_app_\(UUID().uuidString.prefix(8).lowercased())"
            for statement in [
                "CREATE ROLE \(role) LOGIN NOSUPERUSER", "GRANT ALL ON ALL TABLES IN SCHEMA public TO \(role)",
            ] {
                try await admin.query(PostgresQuery(unsafeSQL: statement), logger: TestDatabase.logger)
            }
            var components = URLComponents(string: url)!
            components.user = role
            try await TestDatabase.withClient(url: components.string!) { client in
                let database = PostgresSQLDatabase(client: client, logger: TestDatabase.logger)
                let store = PostgresStore.make(client: client, logger: TestDatabase.logger)
                let (a, _) = try await seedTenant(store, name: "A")
                let (b, bToken) = try await seedTenant(store, name: "B")
                // The ordinary store still works for both tenants (its queries carry the tenant anyway).
                #expect(try await store.inTenant(b.id) { tx in try await tx.tokens().count } == 1)
                // A query that "forgot" its tenant condition, inside A's scope, sees A's rows only.
                let visible = try await database.transaction { connection in
                    try await connection.query("SELECT set_config('vpp.tenant_id', \(a.id.description), true)")
                    return try await connection.query("SELECT count(*) AS n FROM tokens").first?.decode(
                        "n",
                        as: Int.self
                    ) ?? -1
                }
                #expect(visible == 1)
                let unscoped = try await database.transaction { connection in
                    try await connection.query("SELECT count(*) AS n FROM tokens").first?.decode("n", as: Int.self)
                        ?? -1
                }
                #expect(unscoped == 2, "outside a tenant scope the store's own cross-tenant queries still work")
                // Writing B's rows from A's scope changes nothing; inserting a row for B is refused.
                let touched = try await database.transaction { connection in
                    try await connection.query("SELECT set_config('vpp.tenant_id', \(a.id.description), true)")
                    return try await connection.query(
                        "UPDATE tokens SET location_name = 'stolen' WHERE token_id = \(bToken.id) RETURNING token_id"
                    ).count
                }
                #expect(touched == 0)
                await #expect(throws: (any Error).self) {
                    try await database.transaction { connection in
                        try await connection.query(
                            "SELECT set_config('vpp.tenant_id', \(a.id.description), true)"
                        )
                        try await connection.query(
                            "INSERT INTO devices (tenant_id, serial) VALUES (\(b.id), 'SN99999999')"
                        )
                    }
                }
                #expect(
                    try await store.inTenant(b.id) { tx in try await tx.token(bToken.id)?.location.name }
                        == "Main Campus"
                )
            }
        }
    }
}
