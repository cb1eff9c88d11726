import Foundation
import Synchronization
import VPPDomain

/// Each tenant's identity at Apple, remembered after the first read.
///
/// A tenant's holder identity is fixed when the tenant is created and never changes (no path updates or
/// deletes tenants), so every server may keep it: a listing or a sync then reads it without a statement.
public final class TenantHolderCache: Sendable {
    private let known = Mutex<[TenantID: HolderIdentity]>([:])
    /// Entries kept at most; past it the cache starts again (memory stays bounded with any number of tenants).
    let capacity: Int

    public init(capacity: Int = 100_000) { self.capacity = capacity }

    /// The remembered identity, or `read()`'s answer (remembered when there is one).
    func holder(
        of tenantID: TenantID,
        read: () async throws -> HolderIdentity?
    ) async throws -> HolderIdentity? {
        if let remembered = known.withLock({ $0[tenantID] }) { return remembered }
        guard let holder = try await read() else { return nil }
        known.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[tenantID] = holder
        }
        return holder
    }
}
