import ArgumentParser
import Foundation

/// `vppsim`: a conformant simulator of Apple's Apps and Books v2 API, for tests, demos and rehearsals.
@main
struct VPPSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vppsim",
        abstract: "Simulate Apple's Apps and Books (VPP) v2 API locally.",
        discussion: """
            Start it with `vppsim serve --port 9090`, point vpp at it with
            VPP_APPLE_BASE_URL=http://127.0.0.1:9090/mdm/v2, and seed it with the other subcommands.
            """,
        subcommands: [
            Serve.self, LocationCommand.self, AssetCommand.self, TokenCommand.self, HolderCommand.self,
            FaultCommand.self,
        ]
    )
}
