import Foundation
import Synchronization
import VPPDomain

/// Lets small licence reservations of one app in one tenant share a transaction (a group commit in the server):
/// a request arriving while another reservation of the same app is being written waits, and the next batch
/// reserves everyone waiting in one transaction.
///
/// Why: every reservation updates the same counts row (`token_assets`), whose lock is held until the commit has
/// reached the disk, so one reservation at a time per app and token went through, each paying its own commit.
/// No batch waits for a timer: at low load a batch is the one request (no added latency), under load it is
/// everyone who arrived during the previous commit. Each request's outcome is what it would have been alone,
/// reserved at the batch's commit; a request the batch cannot take as a whole (a check fails, a device is named
/// twice, the pool is short, another server won a race) reserves alone, exactly as without batching.
public final class ReservationBatches: Sendable {
    /// What a waiting request is told when its turn comes.
    enum Turn: Sendable {
        /// The batch reserved this request's licences, by granting token.
        case reserved([(TokenID, [Assignment])])
        /// Run the next batch (this request is its first member).
        case lead
        /// Reserve alone: the batch could not take this request as a whole.
        case alone
    }

    /// The app (in its tenant) whose reservations share batches.
    struct Key: Hashable, Sendable {
        let tenantID: TenantID
        let asset: AssetKey
    }

    /// One request's reservation: who asks, for whom, and by when its transaction must commit.
    struct Request: Sendable {
        let caller: Caller
        let assignees: [Assignee]
        let deadline: ContinuousClock.Instant?
        /// The request's `Idempotency-Key` claim: a batch that reserves for it marks it carried out in the batch's
        /// own transaction, as the request's own unit of work would have.
        var idempotent: IdempotentRequest? = nil
    }

    struct Waiting: Sendable {
        let request: Request
        let turn: FirstOutcome<Turn>
    }

    /// How long past its deadline a request waits for its turn before it leaves the line (and fails with its
    /// deadline). Without it one stuck batch held every later request of the app for as long as it was stuck: a CI
    /// run of `Scripts/test-ha.sh` saw all of its clients without an answer for 30 s at a failover.
    static let patience: Duration = .milliseconds(500)

    /// Requests in one batch at most.
    let capacity: Int
    /// Requests of at most this many assignees are batched; larger ones are already one transaction for many.
    let largestRequest: Int
    /// Per app: absent when no batch runs; otherwise the requests waiting for the next batch.
    private let queues = Mutex<[Key: [Waiting]]>([:])
    private let shared = Atomic<Int>(0)

    /// Requests so far reserved in a transaction they shared with others (what the batching saved).
    public var sharedReservations: Int { shared.load(ordering: .relaxed) }

    /// Batches of at most `capacity` requests of at most `largestRequest` assignees each.
    public init(capacity: Int = 64, largestRequest: Int = 20) {
        self.capacity = max(1, capacity)
        self.largestRequest = largestRequest
    }

    /// Waits for `request`'s turn: `.lead` at once when no batch of `key` runs; otherwise the outcome of the batch
    /// that takes it, or `.lead` when it is first in line for the next one — or `.alone` once its deadline has
    /// passed by ``patience`` (the request then fails with its deadline instead of waiting for a stuck batch).
    func join(_ key: Key, _ request: Request) async -> Turn {
        let turn = FirstOutcome<Turn>()
        let leads = queues.withLock { queues -> Bool in
            guard var waiting = queues[key] else {
                queues[key] = []
                return true
            }
            waiting.append(Waiting(request: request, turn: turn))
            queues[key] = waiting
            return false
        }
        if leads { return .lead }
        guard let deadline = request.deadline else { return await turn.value() }
        let timer = Task {
            try await Task.sleep(until: deadline + Self.patience, clock: .continuous)
            // Still in line: leave it. Already taken (into a batch, or to lead the next one): the taker finds the
            // turn settled and carries on without it (see `finish`).
            queues.withLock { queues in queues[key]?.removeAll { $0.turn === turn } }
            turn.settle(.alone)
        }
        defer { timer.cancel() }
        return await turn.value()
    }

    /// Takes the requests waiting for `key`'s next batch (at most `capacity - 1`, beside its leader).
    func take(_ key: Key) -> [Waiting] {
        queues.withLock { queues in
            guard let waiting = queues[key] else { return [] }
            let taken = Array(waiting.prefix(capacity - 1))
            queues[key] = Array(waiting.dropFirst(taken.count))
            return taken
        }
    }

    /// Counts `count` requests reserved together.
    func recordShared(_ count: Int) { shared.wrappingAdd(count, ordering: .relaxed) }

    /// Ends a batch of `key`: the first request still waiting leads the next (one that has just given up waiting
    /// passes the lead on); with none waiting, `key` is idle.
    func finish(_ key: Key) {
        while true {
            let next = queues.withLock { queues -> Waiting? in
                guard var waiting = queues[key], !waiting.isEmpty else {
                    queues[key] = nil
                    return nil
                }
                let first = waiting.removeFirst()
                queues[key] = waiting
                return first
            }
            guard let next else { return }
            if next.turn.settle(.lead) { return }
        }
    }
}
