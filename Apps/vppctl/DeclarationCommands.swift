import ArgumentParser
import Foundation
import VPPDomain
import VPPUseCases

/// `vppctl declaration list`: devices joining and leaving apps' declaration sets.
struct DeclarationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "declaration",
        abstract: "Apps delivered by declaration: declaration-set changes per device.",
        subcommands: [List.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List declaration-set changes (oldest first): join or leave, state, attempts, last error."
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this device.") var serial: String?
        @Option(help: "At most this many.") var limit = 1000
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let device: SerialNumber?
            do { device = try serial.map { try SerialNumber($0.uppercased()) } } catch {
                throw CommandFailure("\(error)")
            }
            try await CLIContext.run(global) { context in
                let rows = try await context.useCases.configureAppDelivery.setChanges(
                    context.caller,
                    serial: device,
                    limit: limit
                )
                if json {
                    try Output.json(rows)
                    return
                }
                Output.table(
                    [
                        "SERIAL", "DECLARATION", "CHANGE", "STATE", "ATTEMPTS", "LAST ERROR", "DEVICE REPORTED",
                        "INSTALL",
                        "HEALS",
                    ],
                    rows.map {
                        [
                            $0.clientUserId.map { "user \($0)" } ?? $0.serialNumber, $0.declaration, $0.change,
                            $0.state, String($0.attempts),
                            $0.lastError ?? "",
                            ([$0.deviceState ?? ""] + $0.deviceReasons).filter { !$0.isEmpty }.joined(separator: " "),
                            $0.installState ?? "",
                            $0.healAttempts == 0
                                ? "" : "\($0.healAttempts) \($0.healState ?? "") \($0.healError ?? "")",
                        ]
                    }
                )
            }
        }
    }
}
