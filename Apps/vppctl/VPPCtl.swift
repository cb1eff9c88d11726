import ArgumentParser
import Foundation

/// `vppctl`: every vpp use case from the command line.
struct VPPCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vppctl",
        abstract: "Manage Apple content tokens (Apps and Books / VPP) for MDM servers.",
        discussion: """
            Start with `vppctl demo`. Settings come from flags, then the environment:
              VPP_DATABASE_URL      postgres://… or sqlite://path
                                    (default: sqlite://.vpp/vpp.sqlite)
              VPP_TENANT            the tenant commands act in (default: "default")
              VPP_APPLE_BASE_URL    Apple's Apps and Books API (default: Apple's)
              VPP_ENCRYPTION_KEY, VPP_ENCRYPTION_KEY_FILE
                                    the key tokens are encrypted with (on SQLite, by
                                    default a key file beside the database, mode 0600)
              VPP_ENCRYPTION_KEY_PREVIOUS, VPP_ENCRYPTION_KEY_PREVIOUS_FILE
                                    the old key, still accepted during a rotation
              VPP_PUBLIC_URL        vpp's public address (for Apple's notifications)
              VPP_SMTP_URL          where notices are mailed (default: none, they wait)
              VPP_LOG_LEVEL         default: warning
              VPP_INTENT_LEASE_SECONDS
                                    how long a claim on queued Apple writes lasts (60)
              VPP_OUTBOUND_ALLOW    hosts or host:port vpp may call although internal,
                                    over plain http too (default: none)
              VPP_MDM_EVENT_RETENTION
                                    seconds MDM webhook events are kept (604800)
              VPP_DECLARATION_HEAL_ATTEMPTS
                                    heals of a device's LicenseNotFound per licence (3)
              VPP_RESERVATION_BATCH requests sharing one reservation transaction (64)
              VPP_DATABASE_MAX_CONNECTIONS
                                    PostgreSQL connections per process (20)
            `vppctl --print-configuration` prints the settings in effect, secrets
            redacted. Exit codes: 0 ok, 1 failure, 2 usage.
            """,
        subcommands: [
            TokenCommand.self, AppCommand.self, LicenseCommand.self, DeviceCommand.self, UserCommand.self,
            ReportCommand.self, AuditCommand.self, GroupCommand.self, ScopeCommand.self,
            MDMCommand.self, CommandCommand.self, DeclarationCommand.self,
            TenantCommand.self, APIKeyCommand.self, SecretsCommand.self, ConsoleAdminCommand.self, MigrateCommand.self,
            DoctorCommand.self, DemoCommand.self,
        ]
    )

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print the configuration in effect (secrets redacted) and exit.") var printConfiguration = false

    /// Without a subcommand: the configuration when asked for, otherwise the help.
    func run() async throws {
        guard printConfiguration else { throw CleanExit.helpRequest(self) }
        print(global.configuration)
    }
}

/// Runs the command tree with vpp's exit codes: 0 ok, 1 failure (one line on stderr), 2 usage.
@main
enum Main {
    static func main() async {
        do {
            var command = try VPPCtl.parseAsRoot(
                GlobalOptions.movingGlobalsAfterSubcommands(Array(CommandLine.arguments.dropFirst()))
            )
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
                    Data("error: \(message.split(separator: "\n").joined(separator: " "))\n".utf8)
                )
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
