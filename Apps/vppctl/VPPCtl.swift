import ArgumentParser
import Foundation

/// `vppctl`: every vpp use case from the command line.
struct VPPCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vppctl",
        abstract: "Manage Apple content tokens (Apps and Books / VPP) for MDM servers.",
        discussion: """
            Start with `vppctl demo`. Configuration comes from flags, then the environment: VPP_DATABASE_URL
            (default: an SQLite file under ./.vpp/), VPP_APPLE_BASE_URL, VPP_ENCRYPTION_KEY or VPP_ENCRYPTION_KEY_FILE,
            VPP_PUBLIC_URL, VPP_SMTP_URL, VPP_LOG_LEVEL. Exit codes: 0 ok, 1 failure, 2 usage.
            """,
        subcommands: [
            TokenCommand.self, AppCommand.self, LicenseCommand.self, DeviceCommand.self, UserCommand.self,
            ReportCommand.self, AuditCommand.self,
            MDMCommand.self, CommandCommand.self,
            TenantCommand.self, APIKeyCommand.self, SecretsCommand.self, ConsoleAdminCommand.self, MigrateCommand.self,
            DoctorCommand.self, DemoCommand.self,
        ]
    )
}

/// Runs the command tree with vpp's exit codes: 0 ok, 1 failure (one line on stderr), 2 usage.
@main
enum Main {
    static func main() async {
        do {
            var command = try VPPCtl.parseAsRoot(
                GlobalOptions.movingGlobalsAfterSubcommands(Array(CommandLine.arguments.dropFirst())))
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = VPPCtl.exitCode(for: error)
            if code == .success {
                print(VPPCtl.fullMessage(for: error))
                exit(0)
            }
            let message = VPPCtl.message(for: error).trimmingCharacters(in: .whitespacesAndNewlines)
            if error is CommandFailure
                || !(code == .validationFailure || error is ValidationError) && !isParseError(error)
            {
                FileHandle.standardError.write(
                    Data("error: \(message.split(separator: "\n").joined(separator: " "))\n".utf8))
                exit(1)
            }
            FileHandle.standardError.write(Data((VPPCtl.fullMessage(for: error) + "\n").utf8))
            exit(2)
        }
    }

    static func isParseError(_ error: any Error) -> Bool {
        VPPCtl.exitCode(for: error) == .validationFailure
    }
}
