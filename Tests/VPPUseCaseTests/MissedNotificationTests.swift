import Foundation
import Testing
import VPPAppleSimulator
import VPPDomain
import VPPTestSupport
import VPPUseCases

/// An Apple notification refused while the database was down (503) is not sent again soon: its events are
/// polled as soon as the database answers, not at the 5-minute cadence.
@Suite("Ledger: notifications refused during an outage are caught up when the database returns")
struct MissedNotificationTests {
    @Test(
        "a refused notification's token has its pending events polled at once, and its tenant's poll queued",
        arguments: StoreKind.allCases
    )
    func caughtUp(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (file, _) = try await world.location("A", assets: [SimAsset(adamId: "408709785", totalCount: 5)])
            let token = try #require(try await world.useCases.uploadToken(world.admin, file: file).token)
            let now = world.clock.now()
            let later = now.addingTimeInterval(300)
            try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.insertPendingEvents([
                    PendingAppleEvent(
                        eventID: "event-1",
                        tokenID: token.id,
                        kind: "associate",
                        createdAt: now,
                        nextPollAt: later
                    )
                ])
            }
            let missed = MissedAppleNotifications()
            #expect(missed.isEmpty)
            missed.record(token.id)
            let depthBefore = try await world.store.jobs.depth()
            #expect(await missed.catchUp(store: world.store, now: now) == 1)
            #expect(missed.isEmpty, "caught up: forgotten")
            let event = try await world.store.inTenant(world.tenant.id) { tx in try await tx.pendingEvent("event-1") }
            let wait = try #require(event).nextPollAt.timeIntervalSince(now)
            #expect(abs(wait) < 0.01, "polled now, not in 5 minutes (\(wait) s)")
            let due = try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.dueEvents(now: now, limit: 10)
            }
            #expect(due.map(\.eventID) == ["event-1"])
            #expect(try await world.store.jobs.depth() == depthBefore + 1, "the tenant's poll job is queued now")
        }
    }
}
