import ArgumentParser
import Foundation
import VPPDomain
import VPPUseCases

/// `vppctl token …`
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Content tokens: inspect, upload, renew, sync, remove.",
        subcommands: [InspectToken.self]
    )
}

/// `vppctl token inspect FILE`: checks a `.vpptoken` file offline and prints what it holds, never the secret.
struct InspectToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Check a .vpptoken file without contacting Apple; prints organisation, expiry and fingerprint."
    )

    @Argument(help: "Path to the .vpptoken file.") var file: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw ValidationError("Cannot read \(file): \(error.localizedDescription)")
        }
        let summary: TokenFileSummary
        do {
            summary = try InspectTokenFile(clock: SystemClock())(data)
        } catch {
            throw CommandFailure("\(file): \(error.description)")
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            print("Organisation: \(summary.organizationName)")
            print("Expires:      \(summary.expiresAt) (\(summary.daysLeft) days left)")
            print("Fingerprint:  sha256:\(summary.secretFingerprint)")
        }
    }
}
