import ArgumentParser
import Foundation

/// `vppd`: the vpp HTTP server (REST API, Apple's notification webhook, background workers).
@main
struct VPPD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vppd",
        abstract: "The vpp server: REST API, Apple notification webhook and background workers.",
        discussion: "Listens on VPP_HTTP_HOST:VPP_HTTP_PORT; reads the same configuration variables as vppctl."
    )

    @Option(help: "Address to listen on (default: $VPP_HTTP_HOST or 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on (default: $VPP_HTTP_PORT or 8080).") var port: Int?

    func run() async throws {
        throw ValidationError("vppd serving is not built yet; see the open issue for the apps.")
    }
}
