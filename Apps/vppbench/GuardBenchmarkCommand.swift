import ArgumentParser
import Foundation
import Logging
import VPPPostgres

/// `vppbench guard`: statements per second straight through PostgresNIO and through the closed-connection guard,
/// at several concurrencies.
struct GuardBenchmarkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guard",
        abstract: "Time SELECT 1 straight through PostgresNIO and through the closed-connection guard."
    )

    @Option(help: "postgres://…") var databaseURL: String
    @Option(help: "Concurrent connections, comma-separated.") var concurrency = "1,8,32"
    @Option(help: "Statements per measurement.") var statements = 20_000

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        for text in concurrency.split(separator: ",") {
            guard let workers = Int(text.trimmingCharacters(in: .whitespaces)), workers > 0 else {
                throw ValidationError("--concurrency takes positive whole numbers, got \(text)")
            }
            let figures = try await GuardBenchmark.measure(
                url: databaseURL,
                concurrency: workers,
                statements: statements,
                logger: logger
            )
            print(
                String(
                    format: "guard: %2d concurrent: straight %6.0f statements/s, %5.1f µs CPU each; guarded %6.0f/s "
                        + "(%.2f×), %5.1f µs CPU each (+%.1f µs)",
                    workers,
                    figures.straight,
                    figures.straightCPU,
                    figures.guarded,
                    figures.guarded / figures.straight,
                    figures.guardedCPU,
                    figures.guardedCPU - figures.straightCPU
                )
            )
        }
    }
}
