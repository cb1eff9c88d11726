import Logging
import PostgresNIO
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
enum ClosedConnectionGuard {
    /// How long a statement may stay pending on a closed connection before it counts as dropped.
    static let patience: Duration = .milliseconds(300)
    /// How often a pending statement's connection is looked at.
    static let checkEvery: Duration = .milliseconds(100)

    static func run<T: Sendable>(
        on connection: PostgresConnection,
        logger: Logger,
        patience: Duration = patience,
        _ statement: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try refuseClosed(connection)
        let outcome = FirstOutcome<Result<T, any Error>>()
        Task {
            do {
                outcome.settle(.success(try await statement()))
            } catch {
                outcome.settle(.failure(error))
            }
        }
        let watcher = Task {
            var closedSince: ContinuousClock.Instant?
            while !outcome.isSettled {
                try await Task.sleep(for: min(checkEvery, patience))
                guard connection.isClosed else { continue }
                let since = closedSince ?? .now
                closedSince = since
                guard ContinuousClock.now - since >= patience else { continue }
                if outcome.settle(.failure(SQLDriverError.other("the database connection closed under a statement"))) {
                    logger.warning("a statement was lost on a closed database connection; its request fails")
                }
            }
        }
        defer { watcher.cancel() }
        return try await outcome.value().get()
    }

    /// Fails at once on a connection the server has closed (the cheap part of the guard: no statement is sent).
    static func refuseClosed(_ connection: PostgresConnection) throws {
        guard connection.isClosed else { return }
        throw SQLDriverError.other("the database connection is closed")
    }
}
