import Foundation
import Synchronization

/// The instant by which the database work of the current task must be done, carried as a task-local value
/// from the edge that promised an answer (the HTTP API's request deadline) down to the storage driver, which
/// bounds its wait for a connection and its transaction by it, and refuses to commit once it has passed.
///
/// A task-local rather than a parameter: every use case and every storage port would otherwise have to pass it
/// through, and a forgotten hop would silently unbind it. Background work runs without one (the driver then
/// applies its own ceiling on the wait for a connection).
public enum WorkDeadline {
    /// The deadline of the work running in this task, if any.
    @TaskLocal public static var current: ContinuousClock.Instant?

    /// Runs `body` with its database work due by `instant` (or by an earlier deadline already in force).
    public static func within<T>(
        _ instant: ContinuousClock.Instant,
        _ body: () async throws -> T
    ) async rethrows -> T {
        let effective = current.map { min($0, instant) } ?? instant
        return try await $current.withValue(effective) { try await body() }
    }
}

/// Where the current task's database work stands (waiting for a connection, in its transaction, committing,
/// committed), so a request still running well past its deadline can be reported with the step it is stuck at.
/// The storage driver writes it; the HTTP edge's watchdog reads it.
public final class WorkProgress: Sendable {
    private let step = Mutex("started")

    public init() {}

    /// The last step recorded.
    public var lastStep: String { step.withLock { $0 } }

    /// Records `text` as the step the work is at.
    public func record(_ text: String) { step.withLock { $0 = text } }

    /// The progress of the work running in this task, if anyone watches it.
    @TaskLocal public static var current: WorkProgress?
}
