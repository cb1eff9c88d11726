import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization
import VPPPostgres

/// `vppbench assign-load`: the load of `Scripts/bench-assign.sh` — single-device licence requests, each naming a
/// device no other request of the run names, spread over the replicas, a fixed number at once. Prints the rate,
/// the latency percentiles, the answers by status and the generator's own CPU per request (it runs on the same
/// cores as what it measures, so its cost is part of the figure: a Python generator took about 0.7 ms a request).
struct AssignLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assign-load",
        abstract: "Send single-device licence requests to vppd replicas and print rate, p50/p99 and statuses."
    )

    @Option(name: .customLong("url"), help: "A replica's base URL (repeat for several; requests alternate).")
    var urls: [String]
    @Option(help: "An API key with the app-management role.") var key: String
    @Option(help: "The app's adamId.") var adamID = "408709785"
    @Option(help: "Serial numbers are this prefix and a 7-digit number.") var serialPrefix = "BENCH"
    @Option(help: "The first device number.") var first = 0
    @Option(help: "How many requests (one device each).") var count: Int
    @Option(help: "Requests in flight at once.") var concurrency = 32
    @Option(help: "What the printed line calls this run.") var label = "run"

    func validate() throws {
        guard !urls.isEmpty else { throw ValidationError("--url is required") }
        guard count > 0, concurrency > 0 else { throw ValidationError("--count and --concurrency must be positive") }
    }

    func run() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency
        )
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(120))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let next = NextRequest(count: count)
        let cpuBefore = GuardBenchmark.cpuSeconds()
        let clock = ContinuousClock()
        let started = clock.now
        let outcomes = try await withThrowingTaskGroup(of: [Outcome].self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var outcomes: [Outcome] = []
                    while true {
                        guard let index = next.take() else { return outcomes }
                        outcomes.append(await send(client, number: first + index, clock: clock))
                    }
                }
            }
            var all: [Outcome] = []
            for try await part in group { all += part }
            return all
        }
        let elapsed = started.duration(to: clock.now)
        let cpu = GuardBenchmark.cpuSeconds() - cpuBefore
        try await client.shutdown()
        print(Self.summary(outcomes, elapsed: elapsed, cpu: cpu, label: label, concurrency: concurrency, urls: urls))
    }

    /// One request's answer and how long it took.
    struct Outcome {
        var status: String
        var duration: Duration
    }

    private func send(_ client: HTTPClient, number: Int, clock: ContinuousClock) async -> Outcome {
        let serial = serialPrefix + String(format: "%07d", number)
        var request = HTTPClientRequest(url: "\(urls[number % urls.count])/v1/apps/\(adamID)/licenses")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"serialNumbers":["\#(serial)"]}"#))
        let started = clock.now
        do {
            let response = try await client.execute(request, timeout: .seconds(120))
            _ = try await response.body.collect(upTo: 1 << 20)
            return Outcome(status: "\(response.status.code)", duration: started.duration(to: clock.now))
        } catch {
            return Outcome(status: "error", duration: started.duration(to: clock.now))
        }
    }

    static func summary(
        _ outcomes: [Outcome],
        elapsed: Duration,
        cpu: Double,
        label: String,
        concurrency: Int,
        urls: [String]
    ) -> String {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let latencies = outcomes.map {
            Double($0.duration.components.attoseconds) / 1e15
                + Double($0.duration.components.seconds) * 1000
        }.sorted()
        func percentile(_ q: Double) -> Double { latencies[min(latencies.count - 1, Int(q * Double(latencies.count)))] }
        let statuses = Dictionary(grouping: outcomes, by: \.status).mapValues(\.count)
            .sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        return String(
            format: "assign[%@]: %d single-device assignments, %d concurrent, %d replicas: %.0f/s (%.1f s), "
                + "p50 %.0f ms, p99 %.0f ms, statuses {%@}; load generator CPU %.2f ms per request",
            label,
            outcomes.count,
            concurrency,
            urls.count,
            Double(outcomes.count) / seconds,
            seconds,
            percentile(0.5),
            percentile(0.99),
            statuses,
            cpu * 1000 / Double(outcomes.count)
        )
    }
}

/// Hands out request numbers 0..<count to the senders, each once.
final class NextRequest: Sendable {
    private let next = Mutex(0)
    let count: Int

    init(count: Int) { self.count = count }

    func take() -> Int? {
        next.withLock { value in
            guard value < count else { return nil }
            defer { value += 1 }
            return value
        }
    }
}
