import Foundation
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

@Suite("A unit of work whose task is cancelled midway is rolled back, and the next one starts")
struct CancelledTransactionTests {
    @Test("cancelled after a write: nothing committed, the store keeps working", arguments: StoreKind.allCases)
    func cancelledMidway(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, _) = try await seedTenant(sut.store)
            let inside = AsyncStream<Void>.makeStream()
            let store = sut.store
            let work = Task {
                try await store.inTenant(tenant.id) { (tx) async throws in
                    try await tx.upsertDevices([Device(tenantID: tenant.id, serialNumber: serial(1))])
                    inside.continuation.yield()
                    try await Task.sleep(for: .seconds(30))  // cancelled here, as a sync that lost its lease is
                }
            }
            var signal = inside.stream.makeAsyncIterator()
            _ = await signal.next()
            work.cancel()
            _ = try? await work.value
            // The next unit of work starts (before the fix, SQLite answered "cannot start a transaction within a
            // transaction"), and the cancelled write is not there.
            let devices = try await sut.store.inTenant(tenant.id) { tx in try await tx.devices([serial(1)]) }
            #expect(devices.isEmpty)
        }
    }
}
