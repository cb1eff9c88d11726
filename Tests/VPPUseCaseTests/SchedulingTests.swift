import Foundation
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

/// The background workers' decisions (what is due, back-off, what a job runs) are use cases vppd only ticks.
@Suite("Scheduling and retry policy")
struct SchedulingTests {
    @Test("back-off doubles from its base, is capped, and never overflows or goes below the base")
    func backoff() {
        let jobs = RetryBackoff.jobs
        #expect((1...8).map { jobs.delay(afterFailures: $0) } == [30, 60, 120, 240, 480, 960, 1920, 3600])
        #expect(jobs.delay(afterFailures: 10_000) == 3600 && jobs.delay(afterFailures: .max) == 3600)
        #expect(jobs.delay(afterFailures: 0) == 30 && jobs.delay(afterFailures: -3) == 30)
        #expect((1...7).map { RetryBackoff.notices.delay(afterFailures: $0) } == [60, 120, 240, 480, 960, 1920, 3600])
    }

    @Test("a cadence fires at once, then once per period; a clock set back does not silence it")
    func cadence() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var every30 = Cadence(every: 30)
        let offsets: [TimeInterval] = [0, 29.9, 30, 45, -3600, -3590]
        let fired = offsets.map { every30.fire(at: start.addingTimeInterval($0)) }
        // Set back an hour: fires (not silent for the hour), then waits a period again.
        #expect(fired == [true, false, true, false, true, false])
    }

    @Test(
        "due syncs are queued once however often scheduling runs; notices only when planning is due",
        arguments: StoreKind.allCases
    )
    func scheduleDueWork(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (file, _) = try await world.location("A", assets: [keynoteSim], validDays: 20)
            try await world.useCases.uploadToken(
                world.admin,
                file: file,
                noticeRecipients: ["it@school.example"]
            )
            let schedule = ScheduleDueWork(store: world.store, syncInterval: 3600)
            #expect(
                schedule.retryAfter == 900
                    && ScheduleDueWork(store: world.store, syncInterval: 60).retryAfter == 60
            )
            let jobs = world.useCases(deliveries: NoDeliveries()).runDueJobs
            for _ in 0..<10 where !(await jobs(owner: "w", stopping: { false })).isEmpty {}  // what upload queued
            world.clock.advance(days: 2.0 / 24)
            let first = try await schedule(now: world.clock.now(), planNotices: false)
            #expect(first.syncs == 1 && first.notices == 0)
            let again = try await schedule(now: world.clock.now(), planNotices: true)
            #expect(again.syncs == 0, "the sync queued by the first pass is not found again")
            #expect(again.notices == 1, "the token expires in under 30 days: notices planned")
            let third = try await schedule(now: world.clock.now(), planNotices: true)
            #expect(third.queueDepth == again.queueDepth, "the sync and the notices job are each queued once")
        }
    }

    /// Three tokens uploaded and synced, then two hours later all three due again (nothing queued).
    static func threeTokensDueAgain(_ world: World) async throws -> [TokenID] {
        var tokens: [TokenID] = []
        for name in ["A", "B", "C"] {
            let (file, _) = try await world.location(name, assets: [keynoteSim])
            tokens.append(try #require(try await world.useCases.uploadToken(world.admin, file: file).token).id)
        }
        let jobs = world.useCases(deliveries: NoDeliveries()).runDueJobs
        for _ in 0..<10 where !(await jobs(owner: "w", stopping: { false })).isEmpty {}  // the first syncs
        world.clock.advance(days: 2.0 / 24)
        return tokens
    }

    @Test(
        "a pass finds the due tokens not yet queued: beyond its limit, the next pass queues the rest",
        arguments: StoreKind.allCases
    )
    func schedulePassesBeyondTheLimit(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            _ = try await Self.threeTokensDueAgain(world)
            let schedule = ScheduleDueWork(store: world.store, syncInterval: 3600, limit: 2)
            let first = try await schedule(now: world.clock.now(), planNotices: false)
            let second = try await schedule(now: world.clock.now(), planNotices: false)
            let third = try await schedule(now: world.clock.now(), planNotices: false)
            #expect(
                [first.syncs, second.syncs, third.syncs] == [Int]([2, 1, 0]),
                "the third token queued by the second pass"
            )
            #expect(third.queueDepth == 3)
        }
    }

    @Test(
        "a sync queued for later is brought forward by a pass; a sync backing off after a failure is left alone",
        arguments: StoreKind.allCases
    )
    func schedulePassKeepsBackOff(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let tokens = try await Self.threeTokensDueAgain(world)
            let now = world.clock.now()
            let later = now.addingTimeInterval(3600)
            func sync(_ token: TokenID, at: Date) -> JobRequest {
                JobRequest(tenantID: world.tenant.id, kind: .sync, key: .token(token), runAt: at)
            }
            // B failed once and backs off for an hour; A is queued for an hour from now, never tried.
            try await world.store.jobs.enqueue(sync(tokens[1], at: now))
            let failed = try await world.store.jobs.claim(owner: "w", now: now, lease: 60, limit: 5)
            try #require(failed.map(\.key) == [.token(tokens[1])])
            try await world.store.jobs.retry(failed[0], at: later, error: "Apple answered 500")
            try await world.store.jobs.enqueue(sync(tokens[0], at: later))

            let pass = try await ScheduleDueWork(store: world.store, syncInterval: 3600)(now: now, planNotices: false)
            #expect(pass.syncs == 2, "A (brought forward) and C (not queued); not B")
            let due = try await world.store.jobs.claim(owner: "w", now: now, lease: 60, limit: 5)
            #expect(Set(due.map(\.key)) == [.token(tokens[0]), .token(tokens[2])])
        }
    }

    @Test(
        "a token uploaded inside a notice window is told about at once, not at the next planning pass",
        arguments: StoreKind.allCases
    )
    func noticeAtUpload(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (file, _) = try await world.location("A", assets: [keynoteSim], validDays: 10)
            _ = try await world.useCases.uploadToken(
                world.admin,
                file: file,
                noticeRecipients: ["it@school.example"]
            )
            let jobs = world.useCases(deliveries: NoDeliveries()).runDueJobs
            for _ in 0..<10 where !(await jobs(owner: "w", stopping: { false })).isEmpty {}  // what upload queued
            let subjects = world.mailer.sent.withLock { $0.map(\.subject) }
            #expect(subjects.contains { $0.contains("expires in 1") && $0.hasSuffix(" days") }, "\(subjects)")
        }
    }

    @Test(
        "a failing job backs off, a stopping server hands its claim back, an unusable token's sync is done",
        arguments: StoreKind.allCases
    )
    func runDueJobs(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (file, _) = try await world.location("A", assets: [keynoteSim])
            let token = try #require(try await world.useCases.uploadToken(world.admin, file: file).token)
            let jobs = world.useCases(deliveries: NoDeliveries()).runDueJobs
            for _ in 0..<10 where !(await jobs(owner: "w", stopping: { false })).isEmpty {}  // what upload queued
            // A secret sealed with a key this server does not have: every sync of this token fails.
            try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.replaceTokenSecret(token.id, secret: SealedSecret(keyID: "gone", ciphertext: [1, 2, 3]))
            }
            func queue(_ key: JobKey) async throws {
                try await world.store.jobs.enqueue(
                    JobRequest(tenantID: world.tenant.id, kind: .sync, key: key, runAt: world.clock.now())
                )
            }
            try await queue(.token(token.id))
            let fail = [RunDueJobs.Result(kind: .sync, outcome: .failed)]
            #expect(await jobs(owner: "w", stopping: { false }) == fail)
            #expect(await jobs(owner: "w", stopping: { false }).isEmpty, "backing off for 30 s")
            world.clock.advance(days: 29.0 / 86_400)
            #expect(await jobs(owner: "w", stopping: { false }).isEmpty)
            world.clock.advance(days: 2.0 / 86_400)
            #expect(await jobs(owner: "w", stopping: { false }) == fail)
            world.clock.advance(days: 59.0 / 86_400)
            #expect(await jobs(owner: "w", stopping: { false }).isEmpty, "second failure: a minute")
            world.clock.advance(days: 2.0 / 86_400)
            #expect(
                await jobs(owner: "stopping", stopping: { true })
                    == [RunDueJobs.Result(kind: .sync, outcome: .released)]
            )
            #expect(await jobs(owner: "w", stopping: { false }) == fail, "handed back at once: claimable again")
            // A sync of a token that is gone is not retried: nothing would change.
            try await queue(.token(TokenID()))
            #expect(await jobs(owner: "w", stopping: { false }).map(\.outcome) == [.ok])
        }
    }
}

/// No MDM server: the jobs under test never deliver commands.
struct NoDeliveries: DeviceCommandDeliveryFactory {
    func delivery(for connection: MDMConnection, credentials: MDMCredentials) throws -> any DeviceCommandDelivery {
        throw MDMError.notConnected
    }
}
