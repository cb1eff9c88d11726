import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction {
    func chunks<T>(_ items: [T], of size: Int) -> [[T]] {
        stride(from: 0, to: items.count, by: size).map { Array(items[$0..<min($0 + size, items.count)]) }
    }

    /// Runs `read` over distinct `values` in chunks small enough for the dialect's bind cap (a bulk request
    /// stays one indexed lookup list per statement) and concatenates the results.
    func lookupChunks<Value: Hashable, Row>(
        _ values: [Value],
        _ read: ([Value]) async throws -> [Row]
    ) async throws -> [Row] {
        var seen: Set<Value> = []
        let distinct = values.filter { seen.insert($0).inserted }
        // A few binds are left for the statement's own values (the tenant, a state).
        let size = max(1, min(1000, dialect.maxBindsPerStatement - 8))
        var found: [Row] = []
        for start in stride(from: 0, to: distinct.count, by: size) {
            found += try await read(Array(distinct[start..<min(start + size, distinct.count)]))
        }
        return found
    }
}
