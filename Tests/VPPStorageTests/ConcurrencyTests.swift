import Foundation
import Synchronization
import Testing
import VPPDomain
import VPPSQLStore
import VPPTestSupport
import VPPUseCases

@Suite("Concurrency: reservations, job leases, notices, rate limits")
struct ConcurrencyTests {
    /// Reserve one licence and record the assignment in the same unit of work, as the assign use case does.
    static func reserveOne(_ store: some Store, tenant: TenantID, token: TokenID, index: Int) async throws -> Bool {
        try await store.inTenant(tenant) { (tx) async throws in
            guard try await tx.reserve(keynote.key, from: token, count: 1) else { return false }
            try await tx.insertAssignments([
                Assignment(tenantID: tenant, asset: keynote.key, assignee: .device(serial(index)), grantingToken: token)
            ])
            return true
        }
    }

    @Test(
        "300 concurrent reservations against a pool of 50 grant exactly 50; stored counts equal stored rows",
        arguments: StoreKind.allCases
    )
    func reservationRace(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, token) = try await seedTenant(sut.store, licences: 50)
            let second = try await sut.makeSecondStore()
            let granted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<300 {
                    let store = i.isMultiple(of: 2) ? sut.store : second
                    group.addTask { try await Self.reserveOne(store, tenant: tenant.id, token: token.id, index: i) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(granted == 50)
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                let stored = try #require(try await tx.counts(tokenID: token.id).first).counts
                #expect(stored.available == 0 && stored.assigned == 50)
                #expect(try await tx.assignments(AssignmentQuery()).count == 50)
            }
        }
    }

    @Test("several OS processes racing on one PostgreSQL database never oversell")
    func multiProcessRace() async throws {
        try await withStore(.postgres) { sut in
            let (tenant, token) = try await seedTenant(sut.store, licences: 60)
            let processes = 4
            let attemptsEach = 40
            let results = try await withThrowingTaskGroup(of: Int.self) { group in
                for p in 0..<processes {
                    group.addTask {
                        try await runBenchTool([
                            "reserve-race", "--database-url", sut.url, "--tenant", tenant.id.description,
                            "--token", token.id.description, "--adam-id", keynote.key.adamID,
                            "--attempts", "\(attemptsEach)", "--serial-offset", "\(p * 1000)",
                        ])
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(results.reduce(0, +) == 60, "granted per process: \(results)")
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                let stored = try #require(try await tx.counts(tokenID: token.id).first).counts
                #expect(stored.available == 0 && stored.assigned == 60)
                #expect(try await tx.assignments(AssignmentQuery()).count == 60)
            }
        }
    }

    @Test(
        "two workers never claim the same job; a dead worker's job is picked up after its lease",
        arguments: StoreKind.allCases
    )
    func jobLeases(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let tenant = makeTenant("Acme")
            try await sut.store.createTenant(tenant)
            for i in 0..<40 {
                #expect(
                    try await sut.store.jobs.enqueue(
                        JobRequest(tenantID: tenant.id, kind: .sync, key: JobKey(rawValue: "token-\(i)"), runAt: now)
                    )
                )
            }
            #expect(
                try await !sut.store.jobs.enqueue(
                    JobRequest(tenantID: tenant.id, kind: .sync, key: JobKey(rawValue: "token-0"), runAt: now)
                ),
                "one queued sync per token"
            )
            let second = try await sut.makeSecondStore()
            let claims = try await withThrowingTaskGroup(of: [ClaimedJob].self) { group in
                for w in 0..<8 {
                    let store = w.isMultiple(of: 2) ? sut.store : second
                    group.addTask { try await store.jobs.claim(owner: "worker-\(w)", now: now, lease: 60, limit: 7) }
                }
                return try await group.reduce(into: [ClaimedJob]()) { $0 += $1 }
            }
            #expect(claims.count == 40)
            #expect(Set(claims.map(\.id)).count == 40, "no job claimed twice")
            // Nothing is claimable while the leases run...
            #expect(
                try await sut.store.jobs.claim(owner: "late", now: now.addingTimeInterval(30), lease: 60, limit: 100)
                    .isEmpty
            )
            // ...the workers "die"; after the lease another worker gets every job, and the dead one's completion is refused.
            let retaken = try await sut.store.jobs.claim(
                owner: "survivor",
                now: now.addingTimeInterval(61),
                lease: 60,
                limit: 100
            )
            #expect(retaken.count == 40 && retaken.allSatisfy { $0.attempts == 2 })
            #expect(try await !sut.store.jobs.complete(claims[0]))
            for job in retaken { #expect(try await sut.store.jobs.complete(job)) }
            #expect(try await sut.store.jobs.depth() == 0)
            // A failed job comes back at its retry time.
            try await sut.store.jobs.enqueue(JobRequest(tenantID: tenant.id, kind: .notices, key: .tenant, runAt: now))
            let job = try #require(try await sut.store.jobs.claim(owner: "w", now: now, lease: 60, limit: 1).first)
            try await sut.store.jobs.retry(job, at: now.addingTimeInterval(300), error: "SMTP down")
            #expect(
                try await sut.store.jobs.claim(owner: "w", now: now.addingTimeInterval(10), lease: 60, limit: 1).isEmpty
            )
            #expect(
                try await sut.store.jobs.claim(owner: "w", now: now.addingTimeInterval(301), lease: 60, limit: 1).count
                    == 1
            )
        }
    }

    @Test("a notice is queued once however many servers try at once", arguments: StoreKind.allCases)
    func noticeOnce(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, token) = try await seedTenant(sut.store)
            let second = try await sut.makeSecondStore()
            let inserted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<20 {
                    let store = i.isMultiple(of: 2) ? sut.store : second
                    group.addTask {
                        try await store.inTenant(tenant.id) { (tx) async throws in
                            try await tx.enqueueNotice(
                                Notice(
                                    tokenID: token.id,
                                    kind: .expiresIn7Days,
                                    tokenExpiresAt: token.expiresAt,
                                    recipients: ["it@acme.example"],
                                    subject: "s\(i)",
                                    body: "b",
                                    nextAttemptAt: now
                                )
                            )
                        }
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(inserted == 1)
        }
    }

    @Test("the shared rate limiter spaces requests for one key across servers", arguments: StoreKind.allCases)
    func sharedRateLimit(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let second = try await sut.makeSecondStore()
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<30 {
                    let limiter = (i.isMultiple(of: 2) ? sut.store : second).requestLimiter
                    group.addTask { try await limiter.acquire(key: "token-fingerprint", perSecond: 15) }
                }
                try await group.waitForAll()
            }
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .seconds(1.8), "30 requests at 15/s need ~1.93 s; took \(elapsed)")
            #expect(elapsed < .seconds(6))
        }
    }
}

/// Runs the `vppbench` executable (built by `Scripts/test.sh` before the tests) and returns the number it prints last.
func runBenchTool(_ arguments: [String]) async throws -> Int {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let binary = root.appendingPathComponent(".build/debug/vppbench")
    guard FileManager.default.isExecutableFile(atPath: binary.path) else {
        throw StoreError.unavailable("\(binary.path) is missing: run `swift build` first (Scripts/test.sh does)")
    }
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = await Task.detached { output.fileHandleForReading.readDataToEndOfFile() }.value
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard process.terminationStatus == 0, let last = text.split(separator: "\n").last,
        let number = Int(last.trimmingCharacters(in: .whitespaces))
    else {
        throw StoreError.unavailable("vppbench \(arguments.first ?? "") failed (\(process.terminationStatus)): \(text)")
    }
    return number
}
