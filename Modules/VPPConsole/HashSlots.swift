import Foundation

/// At most `limit` password hashes at once in this process; the rest wait their turn, first come first
/// served. bcrypt is CPU by design: unbounded, a burst of sign-ins would take every core from the API and
/// the workers (a denial of service even below the throttling limits).
public actor HashSlots {
    public let limit: Int
    private var running = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    /// The most hashes seen running at once (for tests and benchmarks).
    public private(set) var peak = 0

    public init(limit: Int) { self.limit = max(1, limit) }

    /// One slot per core, at most 4: sign-ins queue rather than starve everything else.
    public static let shared = HashSlots(limit: min(4, ProcessInfo.processInfo.activeProcessorCount))

    /// Runs `work` in a slot.
    public func run<T: Sendable>(_ work: @Sendable () async -> T) async -> T {
        await acquire()
        let result = await work()
        release()
        return result
    }

    private func acquire() async {
        if running < limit {
            running += 1
        } else {
            // The releasing task hands its slot over: `running` stays as it is.
            await withCheckedContinuation { waiters.append($0) }
        }
        peak = max(peak, running)
    }

    private func release() {
        if waiters.isEmpty { running -= 1 } else { waiters.removeFirst().resume() }
    }
}
