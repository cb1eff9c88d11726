import ArgumentParser
import Foundation
import VPPDomain
import VPPUseCases

struct AppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app",
        abstract: "The app repository: one entry per app, pooled across tokens.",
        subcommands: [List.self, Show.self, AppForecastCommand.self]
    )
    struct List: AsyncParsableCommand {
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false
        func run() async throws {
            try await CLIContext.run(global) { context in
                let apps = try await context.useCases.catalogue.apps(context.caller)
                if json {
                    try Output.json(apps)
                    return
                }
                Output.table(
                    ["ADAM ID", "NAME", "TYPE", "DEVICE", "TOTAL", "ASSIGNED", "AVAILABLE"],
                    apps.map {
                        [
                            $0.adamId, $0.name ?? "-", $0.productType, $0.deviceAssignable ? "yes" : "no",
                            "\($0.total)", "\($0.assigned)", "\($0.available)",
                        ]
                    }
                )
            }
        }
    }
    struct Show: AsyncParsableCommand {
        @OptionGroup var global: GlobalOptions
        @Argument var adamId: String
        @Flag(help: "Print JSON.") var json = false
        func run() async throws {
            try await CLIContext.run(global) { context in
                guard
                    let app = try await context.useCases.catalogue.apps(context.caller).first(where: {
                        $0.adamId == adamId
                    })
                else {
                    throw CommandFailure("No app \(adamId) in tenant \(context.tenant.name).")
                }
                let perToken = try await context.useCases.reports.licences(context.caller).filter {
                    $0.adamID == adamId
                }
                if json {
                    try Output.json(perToken)
                    return
                }
                print("\(app.name ?? adamId) (\(app.bundleId ?? "-"), version \(app.version ?? "-"))")
                Output.table(
                    ["LOCATION", "STATUS", "TOTAL", "ASSIGNED", "AVAILABLE"],
                    perToken.map {
                        [$0.location, $0.tokenStatus, "\($0.total)", "\($0.assigned)", "\($0.available)"]
                    }
                )
            }
        }
    }
}

struct LicenseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "license",
        abstract: "Assign, revoke and list licences.",
        subcommands: [Assign.self, Revoke.self, Reclaim.self, List.self]
    )

    struct Reclaim: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke, in bulk, every licence held by a retired device or user."
        )
        @OptionGroup var global: GlobalOptions
        func run() async throws {
            try await CLIContext.run(global) { context in
                let count = try await context.useCases.revokeLicences.reclaimRetired(context.caller)
                print("Asked Apple to take back \(count) licence(s) from retired devices and users.")
            }
        }
    }

    struct Targets: ParsableArguments {
        @Argument(help: "The app's adamId.") var adamId: String
        @Option(name: .customLong("serial"), help: "Device serial number (repeatable, or comma-separated).")
        var serials: [String] = []
        @Option(name: .customLong("user"), help: "clientUserId (repeatable, or comma-separated).") var users: [String] =
            []
        @Option(help: "STDQ or PLUS.") var pricing = "STDQ"

        func assignees() throws -> [Assignee] {
            let serialList = serials.flatMap { $0.split(separator: ",").map(String.init) }
            let userList = users.flatMap { $0.split(separator: ",").map(String.init) }
            guard !serialList.isEmpty || !userList.isEmpty else {
                throw ValidationError("Give at least one --serial or --user.")
            }
            return try serialList.map { .device(try SerialNumber($0)) } + userList.map { .user(try ClientUserID($0)) }
        }

        var asset: AssetKey { AssetKey(adamID: adamId, pricingParam: PricingParam(rawValue: pricing) ?? .standard) }
    }

    struct Assign: AsyncParsableCommand {
        @OptionGroup var global: GlobalOptions
        @OptionGroup var targets: Targets
        func run() async throws {
            let assignees = try targets.assignees()
            try await CLIContext.run(global) { context in
                Output.progress("Assigning \(assignees.count) licence(s)…")
                let outcome = try await context.useCases.assignLicences(
                    context.caller,
                    asset: targets.asset,
                    to: assignees
                )
                Output.progress("", done: true)
                print(
                    "Reserved and sent \(assignees.count) licence(s) to Apple in \(outcome.events.count) request(s); "
                        + "devices get InstallApplication when Apple confirms (`license list`)."
                )
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        @OptionGroup var global: GlobalOptions
        @OptionGroup var targets: Targets
        func run() async throws {
            let assignees = try targets.assignees()
            try await CLIContext.run(global) { context in
                let outcome = try await context.useCases.revokeLicences(
                    context.caller,
                    asset: targets.asset,
                    from: assignees
                )
                print(
                    "Asked Apple to revoke \(outcome.revoking.count) licence(s) in \(outcome.events.count) request(s)."
                )
                if !outcome.afterAssignmentSettles.isEmpty {
                    print(
                        "Not yet settled at Apple, revoked as soon as it is: \(outcome.afterAssignmentSettles.count)."
                    )
                }
                if !outcome.cancelled.isEmpty {
                    print("Cancelled before they reached Apple (back in the pool): \(outcome.cancelled.count).")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Licences with their state, page by page (--json: the API's representation)."
        )
        @OptionGroup var global: GlobalOptions
        @OptionGroup var page: PageOptions
        @Option(help: "Only this app.") var adamId: String?
        @Flag(help: "Print JSON.") var json = false
        func run() async throws {
            try await CLIContext.run(global) { context in
                // Settle what Apple finished meanwhile, so the list is current.
                _ = try? await context.useCases.processAppleEvent.pollDue(context.tenant.id)
                let filter = LicenceFilter(asset: adamId.map { AssetKey(adamID: $0) })
                let catalogue = context.useCases.catalogue
                try await Pager<LicenceView>(
                    options: page,
                    json: json,
                    headers: ["ADAM ID", "ASSIGNEE", "STATE", "TOKEN", "DETAIL"],
                    row: {
                        [
                            $0.adamId, $0.serialNumber ?? $0.clientUserId ?? "-", $0.state,
                            String($0.tokenId.prefix(8)), $0.detail ?? "",
                        ]
                    }
                ).run { after, limit in
                    try await catalogue.licencePage(context.caller, filter: filter, after: after, limit: limit)
                }
            }
        }
    }
}

struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device",
        abstract: "Devices the MDM manages.",
        subcommands: [Add.self, Retire.self, List.self]
    )
    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark devices retired (their licences can then be reclaimed)."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Serial numbers.") var serials: [String]
        func run() async throws {
            let numbers = try serials.map { try SerialNumber($0) }
            try await CLIContext.run(global) { context in
                let retired = try await context.useCases.retireDevices(context.caller, numbers)
                print("Retired \(retired.count) device(s); `license reclaim` takes their licences back.")
            }
        }
    }
    struct Add: AsyncParsableCommand {
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Serial numbers.") var serials: [String]
        @Option(help: "adamIds the device reports installed (comma-separated).") var installed: String?
        func run() async throws {
            let numbers = try serials.map { try SerialNumber($0) }
            try await CLIContext.run(global) { context in
                let apps = Set((installed ?? "").split(separator: ",").map(String.init))
                try await context.useCases.manageInventory.addDevices(
                    context.caller,
                    numbers.map {
                        Device(tenantID: context.tenant.id, serialNumber: $0, installedAdamIDs: apps)
                    }
                )
                print("Added \(numbers.count) device(s).")
            }
        }
    }
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Devices by serial number, page by page (--json: the API's representation)."
        )
        @OptionGroup var global: GlobalOptions
        @OptionGroup var page: PageOptions
        @Option(help: "Only serials starting with this.") var serialPrefix: String?
        @Option(help: "true: only enrolled devices; false: only the others.") var enrolled: Bool?
        @Flag(inversion: .prefixedNo, help: "List retired devices too.") var includeRetired = true
        @Flag(help: "Print JSON.") var json = false
        func run() async throws {
            try await CLIContext.run(global) { context in
                let filter = DeviceFilter(
                    serialPrefix: serialPrefix,
                    enrolled: enrolled,
                    includeRetired: includeRetired
                )
                let catalogue = context.useCases.catalogue
                try await Pager<DeviceView>(
                    options: page,
                    json: json,
                    headers: ["SERIAL", "NAME", "INSTALLED"],
                    row: { [$0.serialNumber, $0.name ?? "-", $0.installedAdamIds.joined(separator: ",")] }
                ).run { after, limit in
                    try await catalogue.devicePage(context.caller, filter: filter, after: after, limit: limit)
                }
            }
        }
    }
}

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Managed users (registered with Apple).",
        subcommands: [Add.self, List.self, Enrollment.self]
    )
    struct Enrollment: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The MDM enrollment a user's declarations (user licences, Assignment User) go to."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "clientUserId.") var clientUserId: String
        @Argument(help: "The user's enrollment id at the MDM; without it, prints the current one.")
        var enrollmentId: String?
        @Flag(help: "Unlink the user's enrollment.") var clear = false
        func run() async throws {
            let user = try ClientUserID(clientUserId)
            var enrollment: EnrollmentID?
            if let enrollmentId {
                guard !clear else { throw ValidationError("Give an enrollment id or --clear, not both.") }
                do { enrollment = try EnrollmentID(enrollmentId) } catch { throw ValidationError("\(error)") }
            }
            try await CLIContext.run(global) { context in
                let link = context.useCases.linkUserEnrollment
                if enrollment != nil || clear {
                    try await link(context.caller, user, enrollmentID: enrollment)
                    print(enrollment.map { "User \(clientUserId) is enrollment \($0.value)." } ?? "Unlinked.")
                } else {
                    let current = try await link.enrollment(context.caller, user)
                    print(current.map { "User \(clientUserId) is enrollment \($0)." } ?? "No enrollment linked.")
                }
            }
        }
    }
    struct Add: AsyncParsableCommand {
        @OptionGroup var global: GlobalOptions
        @Argument(help: "clientUserId.") var clientUserId: String
        @Option var email: String?
        func run() async throws {
            try await CLIContext.run(global) { context in
                let user = try ManagedUser(
                    tenantID: context.tenant.id,
                    clientUserID: try ClientUserID(clientUserId),
                    email: email
                )
                try await context.useCases.manageInventory.addUsers(context.caller, [user])
                print("Registered \(clientUserId) with Apple.")
            }
        }
    }
    struct List: AsyncParsableCommand {
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false
        func run() async throws {
            try await CLIContext.run(global) { context in
                let users = try await context.useCases.manageInventory.users(context.caller).map(
                    UserView.init
                )
                if json {
                    try Output.json(users)
                    return
                }
                Output.table(
                    ["CLIENT USER ID", "EMAIL", "STATUS"],
                    users.map { [$0.clientUserId, $0.email ?? "-", $0.status] }
                )
            }
        }
    }
}

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Licence and drift reports.",
        subcommands: [Licenses.self, Drift.self]
    )
    enum Format: String, ExpressibleByArgument { case table, json, csv }
    struct Licenses: AsyncParsableCommand {
        @OptionGroup var global: GlobalOptions
        @Option var format: Format = .table
        func run() async throws {
            try await CLIContext.run(global) { context in
                let rows = try await context.useCases.reports.licences(context.caller)
                switch format {
                case .json: try Output.json(rows.map(ReportRowView.init))  // the API's representation
                case .csv: print(Reports.csv(rows), terminator: "")
                case .table:
                    Output.table(
                        ["ADAM ID", "NAME", "LOCATION", "STATUS", "TOTAL", "ASSIGNED", "AVAILABLE"],
                        rows.map {
                            [
                                $0.adamID, $0.name, $0.location, $0.tokenStatus, "\($0.total)", "\($0.assigned)",
                                "\($0.available)",
                            ]
                        }
                    )
                }
            }
        }
    }
    struct Drift: AsyncParsableCommand {
        @OptionGroup var global: GlobalOptions
        @Option var format: Format = .table
        func run() async throws {
            try await CLIContext.run(global) { context in
                let findings = try await context.useCases.reports.drift(context.caller)
                switch format {
                case .json: try Output.json(findings.map(DriftView.init))
                case .csv: print(Reports.driftCSV(findings), terminator: "")
                case .table:
                    Output.table(
                        ["KIND", "ADAM ID", "ASSIGNEE", "LOCATION", "FIX"],
                        findings.map { [$0.kind.rawValue, $0.adamID, $0.assignee, $0.location, $0.fix] }
                    )
                }
            }
        }
    }
}
