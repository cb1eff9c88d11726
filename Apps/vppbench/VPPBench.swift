import ArgumentParser
import Foundation

/// `vppbench`: benchmarks that print numbers (run through `Scripts/bench-*.sh`).
@main
struct VPPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vppbench",
        abstract: "vpp benchmarks; each prints what it measured.",
        subcommands: [
            AppleWalkBenchmark.self, StoreSyncBenchmark.self, SyncBenchmark.self, ReserveRace.self,
            TenantFleetSeeder.self, GuardBenchmarkCommand.self, AssignLoad.self,
        ]
    )
}

/// Peak resident memory of this process so far, from /proc (Linux), in MiB.
func peakResidentMiB() -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
        let kib = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return nil }
    return kib / 1024
}
