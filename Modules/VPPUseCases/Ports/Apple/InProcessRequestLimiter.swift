import Foundation

/// Paces requests per key at `perSecond`, evenly spaced, within one process.
///
/// Even spacing (rather than bursts) keeps us under Apple's token bucket even when its clock and ours
/// disagree slightly; the cost is at most one interval of latency on the first request after a pause.
public actor InProcessRequestLimiter: AppleRequestLimiter {
    private var nextSlot: [String: ContinuousClock.Instant] = [:]
    private let clock = ContinuousClock()

    public init() {}

    public func acquire(key: String, perSecond: Int) async throws {
        guard perSecond > 0 else { return }
        let interval = Duration.seconds(1) / perSecond
        let now = clock.now
        let slot = max(now, nextSlot[key] ?? now)
        nextSlot[key] = slot + interval
        if slot > now { try await Task.sleep(until: slot, clock: clock) }
    }
}
