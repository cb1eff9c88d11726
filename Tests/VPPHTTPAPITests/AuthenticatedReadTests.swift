import AsyncHTTPClient
import Foundation
import Hummingbird
import Synchronization
import Testing
import VPPComposition
import VPPDomain
import VPPSQLStore
import VPPTestSupport
import VPPUseCases

@testable import VPPHTTPAPI

/// Counts the transactions and statements the store runs (a wrapper around the real database; the store is
/// unchanged).
final class CountingDatabase: SQLDatabase {
    struct Tally: Sendable {
        var transactions = 0
        var statements: [String] = []
    }
    let inner: any SQLDatabase
    let tally = Mutex(Tally())

    init(_ inner: any SQLDatabase) { self.inner = inner }

    var dialect: SQLDialect { inner.dialect }
    var migrationSeam: MigrationSeam { inner.migrationSeam }

    func transaction<T: Sendable>(
        _ settings: TransactionSettings,
        _ body: @Sendable (any SQLConnection) async throws -> T
    ) async throws -> T {
        tally.withLock { $0.transactions += 1 }
        return try await inner.transaction(settings) { connection in
            try await body(CountingConnection(inner: connection, database: self))
        }
    }

    /// Runs `body` and returns what it cost.
    func measure(_ body: () async throws -> Void) async rethrows -> Tally {
        tally.withLock { $0 = Tally() }
        try await body()
        return tally.withLock { $0 }
    }
}

struct CountingConnection: SQLConnection {
    let inner: any SQLConnection
    let database: CountingDatabase

    func query(_ query: SQLQuery) async throws -> [SQLRow] {
        database.tally.withLock { $0.statements.append(String(query.description.prefix(120))) }
        return try await inner.query(query)
    }
}

@Suite("Authenticated reads: cached API keys, one short transaction", .serialized)
struct AuthenticatedReadTests {
    /// The API over a store whose statements are counted.
    static func withCountedAPI(
        _ body: @Sendable (APIBench, CountingDatabase, UseCases) async throws -> Void
    ) async throws {
        try await withAPI(.postgres) { api in
            let world = api.world
            let counting = CountingDatabase(world.sut.database)
            let useCases = UseCases(
                ports: VPPPorts(
                    store: SQLStore(database: counting, clock: { world.clock.now() }),
                    apple: world.ports.apple,
                    metadata: world.ports.metadata,
                    secrets: world.ports.secrets,
                    clock: world.ports.clock,
                    mailer: nil,
                    logger: world.ports.logger
                )
            )
            var hooks = APIHooks(ready: { .success(1) })
            hooks.requestDeadline = .seconds(60)  // as in withAPI: the parallel lane is slow, deadlines have own suites
            let router = APIRouter.build(
                useCases: useCases.api,
                hooks: hooks,
                logger: world.ports.logger
            )
            let (stream, continuation) = AsyncStream<Int>.makeStream()
            let app = Application(
                router: router,
                configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: {
                    continuation.yield($0.localAddress?.port ?? 0)
                    continuation.finish()
                },
                logger: world.ports.logger
            )
            let task = Task { try await app.run() }
            defer { task.cancel() }
            var ports = stream.makeAsyncIterator()
            let port = await ports.next() ?? 0
            let counted = APIBench(
                world: world,
                baseURL: "http://127.0.0.1:\(port)",
                adminKey: api.adminKey,
                readerKey: api.readerKey,
                strangerKey: api.strangerKey,
                ownerKey: api.ownerKey,
                port: port
            )
            try await body(counted, counting, useCases)
        }
    }

    /// A token with an app, two devices and a licence, through the API.
    static func seed(_ api: APIBench) async throws {
        try await api.syncedToken(devices: ["C02XK1JHJG5J", "C02XK1JHJG5K"])
        _ = try await api.call(
            "POST",
            "/v1/apps/408709785/licenses",
            key: api.adminKey,
            json: ["serialNumbers": ["C02XK1JHJG5J"]]
        )
    }

    @Test("a listing with a cached key is one transaction of at most four statements (no statement for the key)")
    func readCost() async throws {
        try await Self.withCountedAPI { api, counting, _ in
            try await Self.seed(api)
            var report: [String] = []
            for path in [
                "/v1/licenses?limit=100", "/v1/devices?limit=100", "/v1/audit?limit=100", "/v1/apps", "/v1/tokens",
            ] {
                #expect(try await api.call("GET", path, key: api.readerKey).status == 200)  // the key is now cached
                let status = Mutex(0)
                let cost = try await counting.measure {
                    let answer = try await api.call("GET", path, key: api.readerKey)
                    status.withLock { $0 = answer.status }
                }
                #expect(status.withLock { $0 } == 200)
                report.append("\(path): \(cost.transactions) transaction(s), \(cost.statements.count) statement(s)")
                // One transaction each. A paged listing: the tenant scope and the page. A pooled view (apps,
                // tokens): the scope, the tokens, the counts and the apps or sync states; the tenant's holder
                // identity comes from memory (TenantHolderCache), not from a second transaction.
                let budget = path.contains("?limit=") ? 3 : 4
                #expect(
                    cost.transactions == 1 && cost.statements.count <= budget,
                    "\(path): \(cost.transactions) tx, \(cost.statements)"
                )
            }
            print("read cost: " + report.joined(separator: "; "))
        }
    }

    @Test("a key revoked elsewhere is refused once the cache entry expires (5 s); unknown keys cost no query twice")
    func revocationHonoured() async throws {
        try await Self.withCountedAPI { api, counting, useCases in
            let owner = Caller(
                tenantID: api.world.tenant.id,
                admin: Admin(tenantID: api.world.tenant.id, name: "ana", role: .mdmAdmin)
            )
            let keys = useCases.manageAPIKeys
            let (key, details) = try await keys.create(owner, name: "short-lived", role: .readOnly)
            #expect(try await api.call("GET", "/v1/licenses", key: key).status == 200)
            // Revoked as another replica would (not through this server, which would forget the key at once).
            _ = try await keys.revoke(owner, id: details.id)
            #expect(try await api.call("GET", "/v1/licenses", key: key).status == 200, "still cached")
            api.world.clock.advance(days: 6.0 / 86_400)
            #expect(try await api.call("GET", "/v1/licenses", key: key).status == 401, "refused after the TTL")

            let unknown = "vpp_" + String(repeating: "ab", count: 32)
            #expect(try await api.call("GET", "/v1/licenses", key: unknown).status == 401)
            let status = Mutex(0)
            let cost = try await counting.measure {
                let answer = try await api.call("GET", "/v1/licenses", key: unknown)
                status.withLock { $0 = answer.status }
            }
            #expect(status.withLock { $0 } == 401)
            #expect(cost.transactions == 0, "a repeated bad key is answered from the cache")

            // Revoking through this server forgets the tenant's entries at once.
            let (second, secondDetails) = try await keys.create(owner, name: "second", role: .readOnly)
            #expect(try await api.call("GET", "/v1/licenses", key: second).status == 200)
            #expect(try await api.call("DELETE", "/v1/api-keys/\(secondDetails.id)", key: api.ownerKey).status == 200)
            #expect(try await api.call("GET", "/v1/licenses", key: second).status == 401, "refused at once here")
        }
    }

    @Test("the cache is bounded: past its capacity it drops expired entries, then starts afresh")
    func cacheBounded() async throws {
        let clock = Mutex(Date(timeIntervalSince1970: 0))
        let cache = APIKeyCache(ttl: 5, capacity: 3, now: { clock.withLock { $0 } })
        for index in 0..<10 { _ = try await cache.caller(for: "vpp_\(index)") { _ in nil } }
        #expect(cache.count <= 3)
        let looked = Mutex(0)
        _ = try await cache.caller(for: "vpp_9") { _ in
            looked.withLock { $0 += 1 }
            return nil
        }
        #expect(looked.withLock { $0 } == 0, "a fresh entry is reused")
        clock.withLock { $0 = $0.addingTimeInterval(6) }
        _ = try await cache.caller(for: "vpp_9") { _ in
            looked.withLock { $0 += 1 }
            return nil
        }
        #expect(looked.withLock { $0 } == 1, "an expired entry is looked up again")
    }
}
