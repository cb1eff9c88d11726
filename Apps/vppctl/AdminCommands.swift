import ArgumentParser
import Foundation
import Logging
import VPPComposition
import VPPDomain
import VPPUseCases

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant",
        abstract: "Tenants (logical MDM servers).",
        subcommands: [Create.self, List.self]
    )
    struct Create: AsyncParsableCommand {
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        func run() async throws {
            try await CLIContext.run(global) { context in
                let tenant = try await context.useCases.tenantAdministration.createTenant(
                    name: name,
                    hostname: ProcessInfo.processInfo.hostName
                )
                print("Created tenant \(tenant.name) (\(tenant.id)).")
            }
        }
    }
    struct List: AsyncParsableCommand {
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false
        func run() async throws {
            try await CLIContext.run(global) { context in
                let tenants = try await context.useCases.ports.store.tenants()
                if json {
                    try Output.json(tenants.map { ["id": $0.id.description, "name": $0.name] })
                    return
                }
                Output.table(["ID", "NAME"], tenants.map { [$0.id.description, $0.name] })
            }
        }
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations (safe from several servers at once)."
    )
    @OptionGroup var global: GlobalOptions
    func run() async throws {
        var logger = Logger(label: "vppctl.migrate")
        logger.logLevel = .warning
        let (applied, latest) = try await VPPRuntime.migrate(global.configuration, logger: logger)
        print(
            applied.isEmpty
                ? "Database already at version \(latest)."
                : "Applied migrations \(applied.map(String.init).joined(separator: ", ")); now at version \(latest)."
        )
    }
}
