import Synchronization

/// The first of several racing answers (work against its timer, a statement against its connection's close):
/// whoever settles first is heard, the others are ignored, and the waiter never waits for a loser.
///
/// Why not a task group: a group waits for every child, and a loser may never end (a PostgreSQL statement
/// dropped on a closed connection, a reservation batch stuck behind one), so it must be left behind instead.
public final class FirstOutcome<Value: Sendable>: Sendable {
    private let state = Mutex<(answer: Value?, waiter: CheckedContinuation<Value, Never>?)>((nil, nil))

    /// Whether an answer has been heard.
    public var isSettled: Bool { state.withLock { $0.answer != nil } }

    /// Offers `answer`; false when another was heard first (this one is dropped).
    @discardableResult
    public func settle(_ answer: Value) -> Bool {
        let (heard, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Value, Never>?) in
            guard state.answer == nil else { return (false, nil) }
            state.answer = answer
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume(returning: answer)
        return heard
    }

    public init() {}

    /// The first answer, once there is one.
    public func value() async -> Value {
        await withCheckedContinuation { continuation in
            let answer = state.withLock { state -> Value? in
                if state.answer == nil { state.waiter = continuation }
                return state.answer
            }
            if let answer { continuation.resume(returning: answer) }
        }
    }
}
