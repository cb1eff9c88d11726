import Foundation
import Testing
import VPPDomain
import VPPSQLStore
import VPPTestSupport

@Suite("SQLQuery: interpolation binds, never splices values (both databases)")
struct SQLQueryTests {
    @Test("a value becomes a placeholder with its bind; fragments keep their binds in order")
    func rendering() {
        let tenant = TenantID()
        let serial = try! SerialNumber("C02ABCDEFG")
        let condition: SQLQuery = "serial = \(serial)"
        let query: SQLQuery =
            "SELECT name FROM devices WHERE tenant_id = \(tenant) AND \(fragment: condition) \(unescaped: "FOR UPDATE")"
        #expect(query.sql { "$\($0)" } == "SELECT name FROM devices WHERE tenant_id = $1 AND serial = $2 FOR UPDATE")
        #expect(query.binds == [.uuid(tenant.rawValue), .text("C02ABCDEFG")])
        #expect(query.description == "SELECT name FROM devices WHERE tenant_id = ? AND serial = ? FOR UPDATE")
    }

    @Test("lists expand to one bind each; an empty list matches nothing instead of failing")
    func lists() {
        let ids: [Int] = [1, 2, 3]
        let query: SQLQuery = "x IN (\(list: ids))"
        #expect(query.sql { "$\($0)" } == "x IN ($1, $2, $3)")
        let empty: SQLQuery = "x IN (\(list: [Int]()))"
        #expect(empty.sql { "$\($0)" } == "x IN (NULL)" && empty.binds.isEmpty)
    }

    @Test(
        "hostile text, optionals, dates and blobs round-trip as values; rows decode by name",
        arguments: StoreKind.allCases
    )
    func roundTrip(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let hostile = "x'); DROP TABLE tenants; -- ? $1"
            let missing: String? = nil
            let when = Date(timeIntervalSince1970: 1_795_000_000.123)
            let rows = try await sut.database.transaction { connection in
                try await connection.query(
                    """
                    SELECT \(hostile) AS text, \(missing) AS missing, \(when) AS at, \(42) AS n, \(true) AS yes
                    """
                )
            }
            let row = try #require(rows.first)
            #expect(try row.decode("text", as: String.self) == hostile)
            #expect(try row.decode("missing", as: String?.self) == nil)
            #expect(try row.decode("at", as: Date.self) == Date(timeIntervalSince1970: 1_795_000_000.123))
            #expect(try row.decode("n", as: Int.self) == 42)
            #expect(try row.decode("yes", as: Bool.self))
            #expect(throws: SQLDriverError.self) { try row.decode("nope", as: String.self) }
            #expect(throws: SQLDriverError.self) { try row.decode("text", as: Int.self) }
            #expect(try await sut.store.tenants().isEmpty)
            let empty = try await sut.database.transaction { connection in
                try await connection.query("SELECT tenant_id FROM tenants WHERE tenant_id IN (\(list: [TenantID]()))")
            }
            #expect(empty.isEmpty)
        }
    }

    @Test("insertMany chunks by the dialect's bind cap and keeps every row", arguments: StoreKind.allCases)
    func insertManyChunks(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let tenants = (0..<2_500).map { _ in TenantID() }
            let tiny = SQLDialect(skipLocked: "", greatest: "MAX", maxBindsPerStatement: 12)
            try await sut.database.transaction { connection in
                try await connection.insertMany(
                    "INSERT INTO tenants (tenant_id, name, holder_id, holder_name, holder_metadata, created_at)",
                    rows: tenants.enumerated().map { index, id -> SQLQuery in
                        "(\(id), \("t\(index)"), \(id.description), \("vpp"), \(""), \(Date()))"
                    },
                    dialect: tiny
                )
            }
            #expect(try await sut.store.tenants().count == 2_500)
        }
    }
}
