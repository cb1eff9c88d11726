import Foundation

/// Exponential back-off: `base` after the first failure, doubled after each further one, never more than `cap`.
public struct RetryBackoff: Sendable, Hashable {
    public let base: TimeInterval
    public let cap: TimeInterval

    public init(base: TimeInterval, cap: TimeInterval) {
        self.base = base
        self.cap = cap
    }

    /// The pause after `failures` consecutive failures (1 = the first). Huge counts stay at `cap` (no overflow).
    public func delay(afterFailures failures: Int) -> TimeInterval {
        min(cap, base * pow(2, Double(min(max(failures, 1), 64) - 1)))
    }

    /// Background jobs: 30 s, 1, 2, 4 … minutes, at most an hour.
    public static let jobs = RetryBackoff(base: 30, cap: 3600)
    /// E-mail notices: 1, 2, 4 … minutes, at most an hour (a mail server down for a day is not hammered).
    public static let notices = RetryBackoff(base: 60, cap: 3600)
}
