import Foundation
import Testing
import VPPDomain

@testable import VPPUseCases

/// A request waiting for its turn in an app's reservation batches never waits for a stuck batch past its own
/// deadline: before, one batch stuck at a failover held every later request of the app (a CI run of
/// `Scripts/test-ha.sh`: all four clients without an answer for 30 s).
@Suite("Reservation batches: a waiting request leaves the line at its deadline")
struct ReservationTurnTests {
    let key = ReservationBatches.Key(tenantID: TenantID(), asset: AssetKey(adamID: "408709785"))

    func request(deadline: ContinuousClock.Instant?) -> ReservationBatches.Request {
        let tenant = key.tenantID
        return ReservationBatches.Request(
            caller: .system(tenant),
            assignees: [.device(try! SerialNumber("C02TURN0001"))],
            deadline: deadline
        )
    }

    @Test("behind a batch that never ends, a request is told to go alone just past its deadline")
    func leavesAtDeadline() async throws {
        let batches = ReservationBatches()
        #expect(isLead(await batches.join(key, request(deadline: nil))), "the first request leads (and never ends)")
        let started = ContinuousClock.now
        let turn = await batches.join(key, request(deadline: started + .milliseconds(300)))
        let waited = ContinuousClock.now - started
        #expect(isAlone(turn), "\(turn)")
        #expect(waited >= .milliseconds(300) + ReservationBatches.patience, "left after \(waited)")
        // Not forever: the bound is loose because the parallel lane can delay a timer's wake-up by seconds.
        #expect(waited < .seconds(30), "left after \(waited)")
    }

    @Test("a request that gave up is skipped: the next one in line leads when the batch ends")
    func leadPassesOn() async throws {
        let batches = ReservationBatches()
        #expect(isLead(await batches.join(key, request(deadline: nil))))
        let soon = ContinuousClock.now + .milliseconds(100)
        async let gaveUp = batches.join(key, request(deadline: soon))
        try await Task.sleep(for: .milliseconds(50))
        async let patient = batches.join(key, request(deadline: nil))
        #expect(isAlone(await gaveUp))
        batches.finish(key)
        #expect(isLead(await patient), "the lead went to the request still waiting")
        batches.finish(key)
        #expect(isLead(await batches.join(key, request(deadline: nil))), "nobody waits: the app is idle again")
    }

    func isLead(_ turn: ReservationBatches.Turn) -> Bool { if case .lead = turn { true } else { false } }
    func isAlone(_ turn: ReservationBatches.Turn) -> Bool { if case .alone = turn { true } else { false } }
}
