import ArgumentParser
import Foundation

/// `vppctl`: every vpp use case from the command line.
@main
struct VPPCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vppctl",
        abstract: "Manage Apple content tokens (Apps and Books / VPP) for MDM servers.",
        discussion: """
            Configuration comes from flags, then the environment: VPP_DATABASE_URL, VPP_APPLE_BASE_URL,
            VPP_ENCRYPTION_KEY or VPP_ENCRYPTION_KEY_FILE, VPP_PUBLIC_URL, VPP_SMTP_URL, VPP_LOG_LEVEL.
            """,
        subcommands: [TokenCommand.self, MigrateCommand.self]
    )
}
