import ArgumentParser
import Foundation
import VPPConsole
import VPPDomain
import VPPUseCases

/// `vppctl admin …`: the web console's admin accounts.
struct ConsoleAdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Web console admin accounts (sign in at <vppd>/console/).",
        subcommands: [Create.self, List.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an admin of the tenant; the password is read from --password-file or standard input."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Letters, digits and . _ @ - (case-insensitive).") var username: String
        @Option(help: "read-only, app-management or mdm-admin.") var role: String
        @Option(help: "A file whose first line is the password (at least 12 characters).") var passwordFile: String?

        func run() async throws {
            guard let parsed = Role(rawValue: role) else {
                throw ValidationError("--role must be read-only, app-management or mdm-admin")
            }
            let password = try readPassword()
            try await CLIContext.run(global) { context in
                let account = try await context.useCases.adminAccounts
                    .create(context.caller, username: username, role: parsed, password: password)
                print("Created admin \(account.username) (\(parsed.displayName)) in tenant \(context.tenant.name).")
            }
        }

        /// The password without its line ending; never echoed or logged.
        func readPassword() throws -> String {
            let data: Data
            if let passwordFile {
                data = try readFile(passwordFile)
            } else if isatty(FileHandle.standardInput.fileDescriptor) != 0, let typed = getpass("Password: ") {
                data = Data(String(cString: typed).utf8)
            } else {
                data = FileHandle.standardInput.readDataToEndOfFile()
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw CommandFailure("The password is not UTF-8 text.")
            }
            let password =
                text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).first.map(String.init) ?? ""
            guard !password.isEmpty else {
                throw CommandFailure("No password given: use --password-file FILE or pipe it on standard input.")
            }
            return password
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the tenant's console admins.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false
        func run() async throws {
            try await CLIContext.run(global) { context in
                let accounts = try await context.useCases.adminAccounts.list(
                    context.caller
                )
                if json {
                    try Output.json(accounts.map { ["username": $0.username.value, "role": $0.role.rawValue] })
                    return
                }
                Output.table(
                    ["USERNAME", "ROLE", "CREATED"],
                    accounts.map { [$0.username.value, $0.role.rawValue, ISO8601Timestamp.format($0.createdAt)] }
                )
            }
        }
    }
}
