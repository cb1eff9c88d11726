import Logging
import PostgresNIO
import Synchronization
import VPPSQLStore
import VPPUseCases

/// Runs one statement so that a connection closing under it can never hold its caller.
///
/// PostgresNIO 1.33 hands a statement to its channel without a write promise: once the channel has closed and
/// its handlers are gone, the statement is dropped and its caller waits for good (closing the connection again
/// does nothing, it is already closed). Checking `isClosed` first narrows that window but cannot shut it: the
/// server may close the session between the check and the write, as every session of a leader is closed at a
/// failover. A CI run of `Scripts/test-ha.sh` met it at the switchover: requests without an answer for 30 s, and
/// behind them every reservation of the app waiting for the stuck one (see ``VPPUseCases/ReservationBatches``).
///
/// So the statement runs in a task of its own and its caller waits for the first of two answers: the
/// statement's, or "the connection has been closed for ``patience`` and the statement has not returned" (a
/// statement the driver still holds fails within milliseconds of the close, so one still pending later was
/// dropped; and no statement on a closed connection can succeed, so the verdict is never wrong, only its
/// message). The dropped statement's task is left behind, suspended; it holds no connection.
///
/// The second answer comes from one sweeper for the whole process (``PendingStatements``), which looks at the
/// connections of the statements in flight every ``checkEvery``: a watcher task and a timer per statement cost
/// more than the statement's own round trip on a local server (`Scripts/bench-guard.sh`).
enum ClosedConnectionGuard {
    /// How long a statement may stay pending on a closed connection before it counts as dropped.
    static let patience: Duration = .milliseconds(300)
    /// How often the connections of pending statements are looked at.
    static let checkEvery: Duration = .milliseconds(100)

    static func run<T: Sendable>(
        on connection: PostgresConnection,
        logger: Logger,
        patience: Duration = patience,
        _ statement: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try refuseClosed(connection)
        let outcome = FirstOutcome<Result<T, any Error>>()
        let ticket = PendingStatements.shared.add(connection, patience: patience) {
            if outcome.settle(.failure(SQLDriverError.other("the database connection closed under a statement"))) {
                logger.warning("a statement was lost on a closed database connection; its request fails")
            }
        }
        Task {
            do {
                outcome.settle(.success(try await statement()))
            } catch {
                outcome.settle(.failure(error))
            }
            PendingStatements.shared.remove(ticket)
        }
        return try await outcome.value().get()
    }

    /// Fails at once on a connection the server has closed (the cheap part of the guard: no statement is sent).
    static func refuseClosed(_ connection: PostgresConnection) throws {
        guard connection.isClosed else { return }
        throw SQLDriverError.other("the database connection is closed")
    }
}

/// The statements in flight through ``ClosedConnectionGuard``, and the one sweeper that fails those whose
/// connection has been closed for their patience. The sweeper runs while any statement is pending and ends
/// when none is (a quiet process has no timer).
final class PendingStatements: Sendable {
    static let shared = PendingStatements()

    struct Entry {
        let connection: PostgresConnection
        let patience: Duration
        let drop: @Sendable () -> Void
        var closedSince: ContinuousClock.Instant?
    }

    private let state = Mutex<(entries: [UInt64: Entry], next: UInt64, sweeping: Bool)>(([:], 0, false))

    /// Registers a statement on `connection`; `drop` is called (once) if the connection stays closed `patience`.
    func add(_ connection: PostgresConnection, patience: Duration, drop: @escaping @Sendable () -> Void) -> UInt64 {
        let (ticket, start) = state.withLock { state -> (UInt64, Bool) in
            state.next += 1
            state.entries[state.next] = Entry(connection: connection, patience: patience, drop: drop)
            defer { state.sweeping = true }
            return (state.next, !state.sweeping)
        }
        if start { Task { await sweep() } }
        return ticket
    }

    /// The statement answered.
    func remove(_ ticket: UInt64) {
        _ = state.withLock { $0.entries.removeValue(forKey: ticket) }
    }

    /// How many statements are pending (tests).
    var pending: Int { state.withLock { $0.entries.count } }

    private func sweep() async {
        while true {
            try? await Task.sleep(for: ClosedConnectionGuard.checkEvery)
            let now = ContinuousClock.now
            let (dropped, done) = state.withLock { state -> ([@Sendable () -> Void], Bool) in
                var dropped: [@Sendable () -> Void] = []
                for (ticket, var entry) in state.entries where entry.connection.isClosed {
                    let since = entry.closedSince ?? now
                    if now - since >= entry.patience {
                        dropped.append(entry.drop)
                        state.entries[ticket] = nil
                    } else if entry.closedSince == nil {
                        entry.closedSince = since
                        state.entries[ticket] = entry
                    }
                }
                if state.entries.isEmpty { state.sweeping = false }
                return (dropped, !state.sweeping)
            }
            for drop in dropped { drop() }
            if done { return }
        }
    }
}
