import Foundation
import PostgresNIO
import Testing
import VPPTestSupport
import VPPUseCases

@testable import VPPPostgres

/// The window `isClosed` cannot shut: the server closes the session after the driver's check and before the
/// statement is written. PostgresNIO 1.33 then drops the statement without an answer (no write promise), and its
/// caller waits for good; ``ClosedConnectionGuard`` answers it with an error instead. Met in CI at a failover's
/// switchover (`Scripts/test-ha.sh`: requests without an answer for 30 s).
@Suite("PostgreSQL: a statement sent on a connection closed under it")
struct DroppedStatementTests {
    /// A connection of its own to the test server, and its backend's process id.
    func connect() async throws -> (PostgresConnection, Int32) {
        let url = URLComponents(string: try TestDatabase.serverURL())!
        let configuration = PostgresConnection.Configuration(
            host: url.host ?? "127.0.0.1",
            port: url.port ?? 5432,
            username: url.user ?? "postgres",
            password: url.password,
            database: "postgres",
            tls: .disable
        )
        let connection = try await PostgresConnection.connect(
            configuration: configuration,
            id: 1,
            logger: TestDatabase.logger
        )
        let rows = try await connection.query("SELECT pg_backend_pid()", logger: TestDatabase.logger).collect()
        return (connection, try rows[0].decode(Int32.self))
    }

    /// Terminates backend `pid` from another session and waits until the driver sees its connection closed.
    func terminate(_ pid: Int32, _ connection: PostgresConnection) async throws {
        _ = try await TestDatabase.withClient(url: try TestDatabase.serverURL()) { admin in
            try await admin.query("SELECT pg_terminate_backend(\(pid))", logger: TestDatabase.logger).collect()
        }
        while !connection.isClosed { try await Task.sleep(for: .milliseconds(10)) }
        // Let the channel finish closing (its handlers leave the pipeline).
        try await Task.sleep(for: .milliseconds(200))
    }

    /// Runs `work` in a task of its own; nil when it has not ended within `limit`.
    func within<T: Sendable>(
        _ limit: Duration,
        _ work: @escaping @Sendable () async throws -> T
    ) async -> Result<T, any Error>? {
        let outcome = FirstOutcome<Result<T, any Error>?>()
        Task {
            do { outcome.settle(.success(try await work())) } catch { outcome.settle(.failure(error)) }
        }
        Task {
            try? await Task.sleep(for: limit)
            outcome.settle(nil)
        }
        return await outcome.value()
    }

    @Test("the driver alone leaves the statement without an answer (why the guard exists)")
    func driverDropsIt() async throws {
        let (connection, pid) = try await connect()
        try await terminate(pid, connection)
        let answer = await within(.seconds(10)) {
            try await connection.query("SELECT 1", logger: TestDatabase.logger).collect().count
        }
        // If a PostgresNIO upgrade answers here, the guard is no longer needed for this: say so, do not hide it.
        #expect(
            answer == nil,
            "PostgresNIO now answers a statement on a closed connection: \(String(describing: answer))"
        )
    }

    @Test("through the guard the statement fails within a second or so, although the check before it passed")
    func guardAnswersIt() async throws {
        let (connection, pid) = try await connect()
        let started = ContinuousClock.now
        let answer = await within(.seconds(10)) {
            try await ClosedConnectionGuard.run(on: connection, logger: TestDatabase.logger) {
                // Closed after the guard's own check: the window it cannot shut.
                try await terminate(pid, connection)
                return try await connection.query("SELECT 1", logger: TestDatabase.logger).collect().count
            }
        }
        switch answer {
        case .none: Issue.record("no answer within 10 s")
        case .success: Issue.record("a statement succeeded on a terminated session")
        case .failure(let error): #expect("\(error)".contains("closed"), "\(error)")
        }
        let took = ContinuousClock.now - started
        // Typically 0.6 s; the bound leaves room for a loaded parallel lane and stays below the driver's 10 s.
        #expect(took < .seconds(8), "answered after \(took)")
    }
}
