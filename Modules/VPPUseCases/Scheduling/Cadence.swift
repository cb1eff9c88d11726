import Foundation

/// A pass that runs at most once every `every` seconds: the first call fires, later calls fire once that much
/// time has passed since the last firing. A clock set back does not silence it for the gap.
public struct Cadence: Sendable, Hashable {
    public let every: TimeInterval
    private(set) var last: Date?

    public init(every: TimeInterval) { self.every = every }

    /// Whether the pass is due at `now`; when it is, `now` becomes the last firing.
    public mutating func fire(at now: Date) -> Bool {
        if let last, now >= last, now.timeIntervalSince(last) < every { return false }
        last = now
        return true
    }
}
