import Foundation
import Synchronization
import VPPDomain
import VPPUseCases

/// Remembers, for a few seconds, which caller an API key stands for, so an authenticated read costs no
/// statement for the key: a revoked or expired key is still refused within ``ttl`` on every replica (each
/// replica's entry expires by itself), and the revoking replica forgets its entries at once.
///
/// Bounded: at most ``capacity`` entries (expired ones are dropped first, then the whole table — a miss only
/// costs one lookup). Keyed by the key's SHA-256, so the cache never holds a key itself. Unknown keys are
/// remembered too (as `nil`), so a client retrying a bad key does not cost a query per request.
final class APIKeyCache: Sendable {
    struct Entry: Sendable {
        let caller: Caller?
        let expires: Date
    }

    let ttl: TimeInterval
    let capacity: Int
    /// The service clock (a test's manual clock moves it; expiry of keys is judged by the same clock).
    let now: @Sendable () -> Date
    private let entries = Mutex<[String: Entry]>([:])

    init(ttl: TimeInterval = 5, capacity: Int = 10_000, now: @escaping @Sendable () -> Date) {
        self.ttl = ttl
        self.capacity = capacity
        self.now = now
    }

    /// The caller for `key`: from the cache while fresh, otherwise from `lookup` (then remembered).
    func caller(for key: String, lookup: (String) async throws -> Caller?) async throws -> Caller? {
        let digest = SHA256Digest.hex(of: key)
        let now = now()
        if let entry = entries.withLock({ $0[digest] }), entry.expires > now { return entry.caller }
        let caller = try await lookup(key)
        entries.withLock { table in
            if table.count >= capacity {
                table = table.filter { $0.value.expires > now }
                if table.count >= capacity { table.removeAll(keepingCapacity: true) }
            }
            table[digest] = Entry(caller: caller, expires: now.addingTimeInterval(ttl))
        }
        return caller
    }

    /// Forgets every entry of `tenant` (after a key of the tenant is revoked or rotated here).
    func forget(tenant: TenantID) {
        entries.withLock { table in table = table.filter { $0.value.caller?.tenantID != tenant } }
    }

    var count: Int { entries.withLock { $0.count } }
}
