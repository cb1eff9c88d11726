import Foundation
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

@Suite("Job queue: claims go round-robin, turn by turn, across tenants")
struct JobClaimTests {
    /// `count` due jobs for a new tenant, the first due at `from`, one second apart.
    static func tenant(
        _ sut: StoreUnderTest,
        _ name: String,
        jobs count: Int,
        from: Date
    ) async throws -> TenantID {
        let tenant = makeTenant(name)
        try await sut.store.createTenant(tenant)
        for i in 0..<count {
            try await sut.store.jobs.enqueue(
                JobRequest(
                    tenantID: tenant.id,
                    kind: .sync,
                    key: JobKey(rawValue: "token-\(i)"),
                    runAt: from.addingTimeInterval(Double(i))
                )
            )
        }
        return tenant.id
    }

    @Test(
        "two busy tenants alternate, and quiet tenants with newer jobs still get their turn in each claim",
        arguments: StoreKind.allCases
    )
    func turnByTurn(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let a = try await Self.tenant(sut, "busy-a", jobs: 20, from: now.addingTimeInterval(-5000))
            let b = try await Self.tenant(sut, "busy-b", jobs: 20, from: now.addingTimeInterval(-4000))
            var quiet: [TenantID] = []
            for i in 0..<3 { quiet.append(try await Self.tenant(sut, "quiet-\(i)", jobs: 1, from: now)) }
            let first = try await sut.store.jobs.claim(owner: "w1", now: now, lease: 60, limit: 9)
            let perTenant = Dictionary(grouping: first, by: \.tenantID).mapValues(\.count)
            #expect(perTenant == [a: 3, b: 3, quiet[0]: 1, quiet[1]: 1, quiet[2]: 1], "turns 1–3 of each tenant")
            #expect(Set(first.map(\.id)).count == 9)
            // Each busy tenant's oldest jobs went first; its next ones are found while those are in flight.
            let second = try await sut.store.jobs.claim(owner: "w2", now: now, lease: 60, limit: 10)
            #expect(Dictionary(grouping: second, by: \.tenantID).mapValues(\.count) == [a: 5, b: 5])
            #expect(Set(second.map(\.id)).isDisjoint(with: first.map(\.id)))
            let keys = Dictionary(grouping: first + second, by: \.tenantID).mapValues {
                $0.map(\.key.rawValue).sorted()
            }
            #expect(keys[a] == (0..<8).map { "token-\($0)" }.sorted(), "a tenant's jobs are claimed oldest first")
        }
    }

    @Test("nothing due, nothing claimed; a job due later waits for its time", arguments: StoreKind.allCases)
    func notYetDue(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            #expect(try await sut.store.jobs.claim(owner: "w", now: now, lease: 60, limit: 16).isEmpty)
            let later = try await Self.tenant(sut, "later", jobs: 2, from: now.addingTimeInterval(100))
            #expect(try await sut.store.jobs.claim(owner: "w", now: now, lease: 60, limit: 16).isEmpty)
            let due = try await sut.store.jobs.claim(owner: "w", now: now.addingTimeInterval(100), lease: 60, limit: 16)
            #expect(due.map(\.tenantID) == [later] && due.map(\.key.rawValue) == ["token-0"])
        }
    }

    @Test(
        "a job queued for later is brought forward by the same job asked for now; one backing off keeps its time",
        arguments: StoreKind.allCases
    )
    func broughtForward(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let tenant = makeTenant("Acme")
            try await sut.store.createTenant(tenant)
            let later = now.addingTimeInterval(300)
            // The intent pump's poll, 5 minutes ahead; then events come due after an outage.
            #expect(
                try await sut.store.jobs.enqueue(
                    JobRequest(tenantID: tenant.id, kind: .pollEvents, key: .tenant, runAt: later)
                )
            )
            #expect(try await sut.store.jobs.claim(owner: "w", now: now, lease: 60, limit: 10).isEmpty)
            #expect(
                try await sut.store.jobs.enqueue(
                    JobRequest(tenantID: tenant.id, kind: .pollEvents, key: .tenant, runAt: now)
                )
            )
            #expect(
                try await !sut.store.jobs.enqueue(
                    JobRequest(tenantID: tenant.id, kind: .pollEvents, key: .tenant, runAt: later)
                ),
                "never pushed back"
            )
            let claimed = try await sut.store.jobs.claim(owner: "w", now: now, lease: 60, limit: 10)
            #expect(claimed.map(\.kind) == [.pollEvents], "due now, not in 5 minutes")
            // A job that failed and backs off keeps its time.
            let job = try #require(claimed.first)
            try await sut.store.jobs.retry(job, at: later, error: "Apple unreachable")
            #expect(
                try await !sut.store.jobs.enqueue(
                    JobRequest(tenantID: tenant.id, kind: .pollEvents, key: .tenant, runAt: now)
                )
            )
            #expect(
                try await sut.store.jobs.claim(owner: "w", now: now.addingTimeInterval(61), lease: 60, limit: 10)
                    .isEmpty
            )
        }
    }
}
