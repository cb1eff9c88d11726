#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import PostgresNIO

/// The closed-connection guard's cost in isolation (`vppbench guard`): `SELECT 1` per second straight through
/// PostgresNIO and through ``ClosedConnectionGuard``, each of `concurrency` workers on a connection of its own.
public enum GuardBenchmark {
    /// Statements per second, straight and guarded, and this process's CPU microseconds per statement (user and
    /// system: the client's share, which a database-bound rate hides).
    public struct Figures: Sendable {
        public let straight: Double
        public let guarded: Double
        public let straightCPU: Double
        public let guardedCPU: Double
    }

    /// Runs `statements` statements each way, split over `concurrency` connections, best of `rounds` each way
    /// (the ways alternate, so a neighbour's load falls on both).
    public static func measure(
        url: String,
        concurrency: Int,
        statements: Int,
        rounds: Int = 3,
        logger: Logger
    ) async throws -> Figures {
        var configuration = try PostgresURL.configuration(from: url)
        configuration.options.maximumConnections = concurrency
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Figures?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            let perWorker = max(1, statements / concurrency)
            _ = try await rate(client, concurrency, perWorker, guarded: false, logger)  // warm the connections
            var straight = (rate: 0.0, cpu: Double.infinity)
            var guarded = (rate: 0.0, cpu: Double.infinity)
            for _ in 0..<rounds {
                let plain = try await rate(client, concurrency, perWorker, guarded: false, logger)
                straight = (max(straight.rate, plain.rate), min(straight.cpu, plain.cpu))
                let through = try await rate(client, concurrency, perWorker, guarded: true, logger)
                guarded = (max(guarded.rate, through.rate), min(guarded.cpu, through.cpu))
            }
            group.cancelAll()
            return Figures(
                straight: straight.rate,
                guarded: guarded.rate,
                straightCPU: straight.cpu,
                guardedCPU: guarded.cpu
            )
        }
    }

    static func rate(
        _ client: PostgresClient,
        _ workers: Int,
        _ each: Int,
        guarded: Bool,
        _ logger: Logger
    ) async throws -> (rate: Double, cpu: Double) {
        let started = ContinuousClock.now
        let cpuBefore = cpuSeconds()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    try await client.withConnection { connection in
                        for _ in 0..<each {
                            if guarded {
                                try await ClosedConnectionGuard.run(on: connection, logger: logger) {
                                    try await selectOne(connection, logger)
                                }
                            } else {
                                try await selectOne(connection, logger)
                            }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let statements = Double(workers * each)
        return (statements / seconds, (cpuSeconds() - cpuBefore) * 1e6 / statements)
    }

    /// This process's CPU time so far (user + system), in seconds.
    public static func cpuSeconds() -> Double {
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    @Sendable static func selectOne(_ connection: PostgresConnection, _ logger: Logger) async throws {
        for try await _ in try await connection.query("SELECT 1", logger: logger) {}
    }
}
