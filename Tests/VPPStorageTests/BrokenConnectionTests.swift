import Foundation
import Testing
import VPPDomain
import VPPSQLStore
import VPPTestSupport
import VPPUseCases

/// A session that dies inside a transaction, as every session to a leader does at a failover: the unit of work
/// fails at once and the store carries on. Before the fix the driver's ROLLBACK on the broken connection never
/// returned, so a request hung with its transaction for good (`Scripts/test-ha.sh`, at the hard kill).
@Suite("PostgreSQL: a session terminated mid-transaction fails fast")
struct BrokenConnectionTests {
    @Test("terminated between two statements: an error within seconds, nothing committed")
    func terminatedMidTransaction() async throws {
        try await withStore(.postgres) { sut in
            let (tenant, _) = try await seedTenant(sut.store)
            let started = ContinuousClock.now
            let progress = WorkProgress()
            let store = sut.store
            let ended = AsyncStream<Result<Void, any Error>?>.makeStream()
            // Unstructured, so a hang is reported with the driver's step instead of hanging the test run.
            Task {
                do {
                    try await WorkProgress.$current.withValue(progress) {
                        try await store.inTenant(tenant.id) { (tx) async throws in
                            try await tx.upsertDevices([Device(tenantID: tenant.id, serialNumber: serial(1))])
                            let killed = try await sut.raw(
                                """
                                SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
                                WHERE datname = current_database() AND pid <> pg_backend_pid()
                                    AND state = 'idle in transaction'
                                """
                            )
                            #expect(killed.count == 1, "this unit of work's session, and only it")
                            _ = try await tx.devices([serial(1)])
                        }
                    }
                    ended.continuation.yield(.success(()))
                } catch {
                    ended.continuation.yield(.failure(error))
                }
            }
            Task {
                try? await Task.sleep(for: .seconds(10))
                ended.continuation.yield(nil)
            }
            var first = ended.stream.makeAsyncIterator()
            switch await first.next() ?? nil {
            case .none: Issue.record("still running after 10 s, at: \(progress.lastStep)")
            case .success: Issue.record("the unit of work succeeded on a terminated session")
            case .failure: break
            }
            let took = ContinuousClock.now - started
            #expect(took < .seconds(5), "failed in \(took)")
            // The pool may lend the killed session again before PostgresNIO has seen it close: that unit of work
            // begins again on another (see the next test), so the very next one runs.
            let devices = try? await sut.store.inTenant(tenant.id) { tx in try await tx.devices([serial(1)]) }
            #expect(devices?.isEmpty == true, "nothing committed, and a unit of work after it runs")
        }
    }

    @Test("pooled sessions the server ended while idle: the units of work lent them begin again on live ones")
    func idleSessionsEndedUnderThePool() async throws {
        try await withStore(.postgres) { sut in
            let (tenant, _) = try await seedTenant(sut.store)
            let store = sut.store
            @Sendable func failedUnitsOfWork(_ count: Int) async -> Int {
                await withTaskGroup(of: Bool.self) { group in
                    for _ in 0..<count {
                        group.addTask {
                            (try? await store.inTenant(tenant.id) { tx in try await tx.devices([serial(1)]) }) != nil
                        }
                    }
                    return await group.reduce(0) { $0 + ($1 ? 0 : 1) }
                }
            }
            var failed = 0
            for _ in 0..<10 {
                _ = await failedUnitsOfWork(4)  // the pool holds several sessions
                // Every idle session but this statement's ends, as at a failover; units of work follow at once.
                _ = try await sut.raw(
                    """
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle'
                    """
                )
                failed += await failedUnitsOfWork(4)
            }
            #expect(failed == 0, "\(failed) of 40 units of work failed on a session the server had ended")
        }
    }
}
