import Foundation

/// A token bucket: `rate` requests per second with bursts of up to `rate`.
struct TokenBucket: Sendable {
    private(set) var tokens: Double
    private var lastRefill: Date

    init(rate: Double, now: Date) {
        tokens = rate
        lastRefill = now
    }

    /// Takes one token if there is one.
    mutating func take(rate: Double, now: Date) -> Bool {
        tokens = min(rate, tokens + now.timeIntervalSince(lastRefill) * rate)
        lastRefill = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
