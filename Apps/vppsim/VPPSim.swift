import ArgumentParser
import Foundation

/// `vppsim`: a conformant simulator of Apple's Apps and Books v2 API, for tests, demos and rehearsals.
@main
struct VPPSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vppsim",
        abstract: "Simulate Apple's Apps and Books (VPP) v2 API locally."
    )
}
