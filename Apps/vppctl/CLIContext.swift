import ArgumentParser
import Foundation
import Logging
import VPPComposition
import VPPDomain
import VPPUseCases

/// Options every command that touches the database accepts.
struct GlobalOptions: ParsableArguments {
    @Option(help: "postgres://… or sqlite://path (default: $VPP_DATABASE_URL or sqlite://.vpp/vpp.sqlite).")
    var databaseURL: String?
    @Option(help: "Apple's API base URL (default: $VPP_APPLE_BASE_URL or Apple's).") var appleBaseURL: String?
    @Option(help: "Tenant name (default: $VPP_TENANT or \"default\", created on first use).") var tenant: String?

    /// The configuration with these flags over the environment (the one reader: VPPConfiguration).
    var configuration: VPPConfiguration {
        let flags = ["vpp.database.url": databaseURL, "vpp.apple.base.url": appleBaseURL, "vpp.tenant": tenant]
        return VPPConfiguration(program: .cli, flags: flags.compactMapValues { $0 })
    }

    var tenantName: String { configuration.tenant }

    /// The options above, which every command accepts after its subcommand; ArgumentParser knows them only
    /// there, so `vppctl --tenant acme token list` is rewritten to `vppctl token list --tenant acme`.
    static let names = ["--database-url", "--apple-base-url", "--tenant"]

    /// Moves global options (with their values) that come before the first subcommand to the end.
    static func movingGlobalsAfterSubcommands(_ arguments: [String]) -> [String] {
        var globals: [String] = []
        var rest: [String] = []
        var index = 0
        var seenSubcommand = false
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { return rest + globals + arguments[index...] }
            if !seenSubcommand, names.contains(where: { argument.hasPrefix($0 + "=") }) {
                globals.append(argument)
            } else if !seenSubcommand, names.contains(argument), index + 1 < arguments.count {
                globals += [argument, arguments[index + 1]]
                index += 1
            } else {
                if !argument.hasPrefix("-") { seenSubcommand = true }
                rest.append(argument)
            }
            index += 1
        }
        return rest + globals
    }
}

/// An open runtime with the tenant resolved and the local operator as caller.
struct CLIContext {
    let runtime: VPPRuntime
    let tenant: Tenant
    let caller: Caller
    /// Every use case, built once for the command (the CLI's composition root).
    let useCases: UseCases

    /// The CLI's use cases: no background workers, so scope changes are reconciled before a command returns.
    static func useCases(_ runtime: VPPRuntime) -> UseCases {
        var settings = runtime.settings
        settings.reconcilesInline = true
        return UseCases(ports: runtime.ports, settings: settings)
    }

    /// Runs `body` inside the runtime's scope (``VPPRuntime/withRunning(_:migrate:clock:appleObserver:logger:_:)``):
    /// the PostgreSQL client runs for exactly as long as the command and is shut down before vppctl exits,
    /// on success and on error. A runtime that cannot start is reported in one line (status 1).
    static func run<T>(
        _ options: GlobalOptions,
        migrate: Bool = true,
        _ body: (CLIContext) async throws -> T
    ) async throws -> T {
        let configuration = options.configuration
        var logger = Logger(label: "vppctl")
        logger.logLevel = configuration.logLevel
        do {
            return try await VPPRuntime.withRunning(configuration, migrate: migrate, logger: logger) { runtime in
                do {
                    let useCases = Self.useCases(runtime)
                    let tenant = try await resolveTenant(configuration.tenant, useCases: useCases)
                    let user = ProcessInfo.processInfo.environment["USER"] ?? "operator"
                    // The CLI is the operator's tool with direct database access: full rights in its tenant.
                    let caller = Caller(
                        tenantID: tenant.id,
                        admin: Admin(tenantID: tenant.id, name: "cli:\(user)", role: .mdmAdmin)
                    )
                    return try await body(
                        CLIContext(runtime: runtime, tenant: tenant, caller: caller, useCases: useCases)
                    )
                } catch {
                    throw CommandError(error: error)
                }
            }
        } catch let failure as CommandError {
            throw failure.error
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    /// An error of the command itself (passed on as it is), told apart from the runtime's own.
    private struct CommandError: Error { let error: any Error }

    static func resolveTenant(_ name: String, useCases: UseCases) async throws -> Tenant {
        if let tenant = try await useCases.ports.store.tenant(named: name) { return tenant }
        guard name == "default" else {
            throw CommandFailure("No tenant \"\(name)\". Create it with `vppctl tenant create \(name)`.")
        }
        return try await useCases.tenantAdministration.createTenant(
            name: name,
            hostname: ProcessInfo.processInfo.hostName
        )
    }

    func token(_ idOrLocation: String) async throws -> ContentToken {
        let tokens = try await useCases.listTokens(caller).map(\.token)
        if let match = tokens.first(where: {
            $0.id.description == idOrLocation.lowercased() || $0.location.name == idOrLocation
                || $0.location.appleID == idOrLocation
        }) {
            return match
        }
        throw CommandFailure("No token \"\(idOrLocation)\" in tenant \(tenant.name). `vppctl token list` shows them.")
    }
}

/// A failure reported on stderr in one line, exiting with status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Reads a file or fails naming it.
func readFile(_ path: String) throws -> Data {
    do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
        throw CommandFailure("Cannot read \(path): \(error.localizedDescription)")
    }
}
