import Foundation
import Testing
import VPPDomain
import VPPPostgres
@testable import VPPSQLStore
import VPPTestSupport
import VPPUseCases

/// Lookups by a list of serials or users find exactly the rows named; on PostgreSQL they read only those rows once
/// the store has refreshed the statistics of a table that grew faster than autovacuum re-analyses it (a tenant's
/// first 20,000 licences arrive in seconds).
@Suite("Storage: lookups by a list of keys")
struct KeyLookupTests {
    static let holding = AssignmentState.Code.holding
    /// The statistics and rows-read tests are about PostgreSQL's planner (none in the fast lane, which has no
    /// PostgreSQL).
    static let postgresOnly = StoreKind.allCases.filter { $0 == .postgres }

    @Test(
        "the licences of named devices and users: exactly those held, of this app and tenant",
        arguments: StoreKind.allCases
    )
    func namedHolders(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, token) = try await seedTenant(sut.store)
            let (other, otherToken) = try await seedTenant(sut.store, name: "Other")
            let ada = try ClientUserID("ada")
            let bob = try ClientUserID("bob")
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                let rows = [Assignee.device(serial(1)), .device(serial(2)), .device(serial(3)), .user(ada), .user(bob)]
                    .map { Assignment(tenantID: tenant.id, asset: keynote.key, assignee: $0, grantingToken: token.id) }
                #expect(try await tx.reserveLicences(rows))
            }
            try await sut.store.inTenant(other.id) { (tx) async throws in
                let row = Assignment(
                    tenantID: other.id,
                    asset: keynote.key,
                    assignee: .device(serial(4)),
                    grantingToken: otherToken.id
                )
                #expect(try await tx.reserveLicences([row]))
            }
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                var query = AssignmentQuery(asset: keynote.key, states: Self.holding)
                query.assignees = [
                    .device(serial(1)), .device(serial(3)), .device(serial(4)), .device(serial(9)), .user(bob),
                ]
                let found = try await tx.assignments(query)
                #expect(Set(found.map(\.assignee)) == [.device(serial(1)), .device(serial(3)), .user(bob)])
                #expect(found.count == 3)

                query.assignees = [.device(serial(2))]
                query.asset = AssetKey(adamID: "999999")
                #expect(try await tx.assignments(query).isEmpty, "another app's licences are not this app's")

                query = AssignmentQuery(asset: keynote.key, states: [.active])
                query.assignees = [.device(serial(1)), .user(ada)]
                #expect(try await tx.assignments(query).isEmpty, "reserved licences are not active ones")

                let devices = try await tx.devices([serial(2), serial(4), serial(2)])
                #expect(devices.isEmpty, "no device was added: licences alone make no devices")
            }
        }
    }

    /// A tenant's app with `count` device licences (and their devices) written after the tables' statistics were
    /// taken empty: what the planner sees during a burst of assignments.
    static func staleStatistics(_ sut: StoreUnderTest, count: Int) async throws -> (Tenant, ContentToken) {
        let (tenant, token) = try await seedTenant(sut.store)
        _ = try await sut.raw("ANALYZE assignments")
        _ = try await sut.raw("ANALYZE devices")
        _ = try await sut.raw(
            """
            INSERT INTO devices (tenant_id, serial)
            SELECT \(tenant.id), 'SN' || lpad(i::text, 8, '0') FROM generate_series(1, \(count)) AS i
            """
        )
        _ = try await sut.raw(
            """
            INSERT INTO assignments (tenant_id, assignment_id, token_id, adam_id, pricing, serial, state, changed_at)
            SELECT \(tenant.id), md5('licence' || i)::uuid, \(token.id), \(keynote.key.adamID), 'STDQ',
                   'SN' || lpad(i::text, 8, '0'), 'reserved', i
            FROM generate_series(1, \(count)) AS i
            """
        )
        return (tenant, token)
    }

    /// Rows `body` read from `table` (PostgreSQL's counters of the backend's statistics not yet reported, read
    /// before and after it on its connection: they also hold earlier transactions' reads).
    static func rowsRead(
        _ sut: StoreUnderTest,
        _ tenant: TenantID,
        table: String,
        _ body: @Sendable (SQLTenantTransaction) async throws -> Int
    ) async throws -> (found: Int, read: Int64) {
        try await sut.database.transaction(TransactionSettings(tenant: tenant)) { connection in
            let counter: SQLQuery = """
                SELECT coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0) AS n
                FROM pg_stat_xact_user_tables WHERE relname = \(table)
                """
            let tx = SQLTenantTransaction(connection: connection, tenantID: tenant, dialect: sut.database.dialect) {
                Date()
            }
            let before = try await connection.query(counter).first?.decode("n", as: Int64.self) ?? 0
            let found = try await body(tx)
            let after = try await connection.query(counter).first?.decode("n", as: Int64.self) ?? 0
            return (found, after - before)
        }
    }

    @Test(
        "statistics refreshed after 10,000 licences arrived: 8 serials read about 8 rows, not the app's 10,000",
        arguments: KeyLookupTests.postgresOnly
    )
    func refreshedStatisticsProbeEachKey(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, _) = try await Self.staleStatistics(sut, count: 10_000)
            let named = [5, 105, 1_005, 2_005, 3_005, 4_005, 5_005, 6_005].map(serial)
            // Planned on the empty table's statistics, this lookup read all 10,000 licences of the app.
            #expect(try await sut.store.refreshStatistics() == ["assignments", "devices"])
            #expect(try await sut.store.refreshStatistics().isEmpty, "nothing changed since: nothing analysed")

            let licences = try await Self.rowsRead(sut, tenant.id, table: "assignments") { tx in
                var query = AssignmentQuery(asset: keynote.key, states: Self.holding)
                query.assignees = Set(named.map(Assignee.device))
                return try await tx.assignments(query).count
            }
            #expect(licences.found == 8)
            #expect(licences.read < 100, "the licence lookup read \(licences.read) rows for 8 serials")

            let devices = try await Self.rowsRead(sut, tenant.id, table: "devices") { tx in
                try await tx.devices(named).count
            }
            #expect(devices.found == 8)
            #expect(devices.read < 100, "the device lookup read \(devices.read) rows for 8 serials")
        }
    }

    @Test(
        "a claim of 200 queued intents among 10,000 licences reads about those 200, not the tenant's 10,000",
        arguments: KeyLookupTests.postgresOnly
    )
    func claimReadsTheClaimedRows(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, token) = try await Self.staleStatistics(sut, count: 10_000)
            _ = try await sut.raw("UPDATE assignments SET state = 'pending', event_id = 'e1' WHERE changed_at > 200")
            _ = try await sut.raw("ANALYZE assignments")
            let claim = try await Self.rowsRead(sut, tenant.id, table: "assignments") { tx in
                try await tx.claimIntents(
                    tokenID: token.id,
                    asset: keynote.key,
                    state: .reserved,
                    owner: "worker",
                    now: Date(),
                    until: Date().addingTimeInterval(60),
                    limit: 1_000
                ).count
            }
            #expect(claim.found == 200)
            #expect(claim.read < 1_000, "the claim read \(claim.read) rows to claim 200")
        }
    }

    @Test(
        "tables the role does not own are left to autovacuum: another role's server analyses none of them",
        arguments: KeyLookupTests.postgresOnly
    )
    func tablesOfAnotherOwnerAreLeft(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            _ = try await Self.staleStatistics(sut, count: 10_000)
            let role = "vpp_visitor_\(UUID().uuidString.prefix(8).lowercased())"
            _ = try await sut.raw("CREATE ROLE \(unescaped: role) LOGIN")
            _ = try await sut.raw("GRANT SELECT ON ALL TABLES IN SCHEMA public TO \(unescaped: role)")
            var visitorURL = URLComponents(string: sut.url)!
            visitorURL.user = role
            visitorURL.password = nil
            // Only the owner may ANALYZE: PostgreSQL would skip it with a warning, on every pass while it stays grown.
            let analysed = try await TestDatabase.withClient(url: visitorURL.string!) { client in
                try await PostgresStore.make(client: client, logger: TestDatabase.logger).refreshStatistics()
            }
            #expect(analysed.isEmpty)
            #expect(try await sut.store.refreshStatistics() == ["assignments", "devices"], "the owner's server does")
            _ = try await sut.raw("DROP OWNED BY \(unescaped: role)")
            _ = try await sut.raw("DROP ROLE \(unescaped: role)")
        }
    }

    @Test("the embedded store has no planner statistics to keep")
    func sqliteKeepsNone() async throws {
        try await withStore(.sqlite) { sut in
            _ = try await seedTenant(sut.store)
            #expect(try await sut.store.refreshStatistics().isEmpty)
        }
    }
}
