import ArgumentParser
import Foundation
import VPPDomain
import VPPUseCases

/// Devices and users named on the command line (`--serial`, `--user`; repeatable or comma-separated).
struct MemberOptions: ParsableArguments {
    @Option(name: .customLong("serial"), help: "Device serial number (repeatable, or comma-separated).")
    var serials: [String] = []
    @Option(name: .customLong("user"), help: "clientUserId (repeatable, or comma-separated).") var users: [String] = []

    func assignees() throws -> [Assignee] {
        let serialList = serials.flatMap { $0.split(separator: ",").map(String.init) }
        let userList = users.flatMap { $0.split(separator: ",").map(String.init) }
        return try serialList.map { .device(try SerialNumber($0)) } + userList.map { .user(try ClientUserID($0)) }
    }
}

/// The CLI has no background workers: its use cases reconcile changes before the command returns
/// (``UseCaseSettings/reconcilesInline``, set by ``CLIContext``).
private func manage(_ context: CLIContext) -> ManageDesiredState { context.useCases.manageDesiredState }

/// Adds or removes members of a written group and prints the group.
private func editGroup(_ global: GlobalOptions, _ name: String, _ members: [Assignee], adding: Bool) async throws {
    try await CLIContext.run(global) { context in
        let record = try await manage(context).editMembers(context.caller, try GroupName(name), adding: adding, members)
        printGroup(GroupView(record))
    }
}

private func printGroup(_ view: GroupView) {
    let kind =
        view.dynamic
        ? "dynamic: enrolled devices"
            + (view.platforms.map { $0.isEmpty ? "" : " on \($0.joined(separator: ", "))" } ?? "")
            + (view.modelPrefix.map { ", model \($0)*" } ?? "")
        : "\(view.memberCount) member(s)"
    print("Group \(view.name): \(kind)")
}

private func printPlan(_ plan: PlanView, dryRun: Bool) {
    print(
        (dryRun ? "Plan (dry run, nothing changed): " : "Plan: ")
            + "add \(plan.add), remove \(plan.remove), wait \(plan.wait), keep \(plan.keep), "
            + "leaving within grace \(plan.pendingRemoval); \(plan.unmanaged) licensed outside any scope (left alone)"
            + (plan.excluded > 0 ? "; \(plan.excluded) cannot hold a licence (retired or unknown user)" : "")
    )
}

struct GroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group",
        abstract: "Groups of devices and users that scopes name.",
        subcommands: [Set.self, Add.self, Remove.self, Show.self, List.self, Delete.self]
    )

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or replace a group: exactly these members, or --dynamic (every enrolled device)."
        )
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @OptionGroup var members: MemberOptions
        @Flag(help: "Every enrolled device (optionally --platform, --model-prefix).") var dynamic = false
        @Option(help: "iOS, iPadOS, macOS, tvOS or visionOS (repeatable).") var platform: [String] = []
        @Option(help: "Only models starting with this, e.g. iPad13.") var modelPrefix: String?
        @Flag(help: "Print JSON.") var json = false
        func run() async throws {
            let members = try self.members.assignees()
            var membership: DynamicMembership?
            if dynamic {
                guard members.isEmpty else { throw ValidationError("A dynamic group has no --serial or --user.") }
                let families = try platform.map { text in
                    guard let family = DeviceOSFamily(rawValue: text) else {
                        throw ValidationError("--platform \(text): use iOS, iPadOS, macOS, tvOS or visionOS.")
                    }
                    return family
                }
                membership = try DynamicMembership(platforms: Swift.Set(families), modelPrefix: modelPrefix)
            }
            try await CLIContext.run(global) { context in
                let record = try await manage(context).putGroup(
                    context.caller,
                    try GroupName(name),
                    members: members,
                    dynamic: membership
                )
                if json { return try Output.json(GroupView(record)) }
                printGroup(GroupView(record))
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add members to a group.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @OptionGroup var members: MemberOptions
        func run() async throws {
            try await editGroup(global, name, try members.assignees(), adding: true)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove members from a group (their licences follow the scopes' removal policy)."
        )
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @OptionGroup var members: MemberOptions
        func run() async throws {
            try await editGroup(global, name, try members.assignees(), adding: false)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A group and its members.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Option(help: "Members per page.") var limit = 1000
        @Option(help: "The `next` of the previous page.") var after: String?
        @Flag(help: "Print JSON.") var json = false
        func run() async throws {
            try await CLIContext.run(global) { context in
                let (record, members) = try await manage(context).group(
                    context.caller,
                    try GroupName(name),
                    after: after,
                    limit: limit
                )
                let page = GroupPage(
                    group: GroupView(record),
                    members: members.map(MemberView.init),
                    next: members.count == limit ? members.last?.sortKey : nil
                )
                if json { return try Output.json(page) }
                printGroup(page.group)
                Output.table(
                    ["SERIAL", "USER"],
                    page.members.map { [$0.serialNumber ?? "-", $0.clientUserId ?? "-"] }
                )
                if let next = page.next { print("More: --after \(next)") }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Groups by name.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false
        func run() async throws {
            try await CLIContext.run(global) { context in
                let views = try await manage(context).groups(context.caller).map(GroupView.init)
                if json { return try Output.json(views) }
                Output.table(
                    ["NAME", "KIND", "MEMBERS"],
                    views.map { [$0.name, $0.dynamic ? "dynamic" : "written", $0.dynamic ? "-" : "\($0.memberCount)"] }
                )
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a group no scope names.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        func run() async throws {
            try await CLIContext.run(global) { context in
                try await manage(context).deleteGroup(context.caller, try GroupName(name))
                print("Deleted group \(name).")
            }
        }
    }
}

struct ScopeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scope",
        abstract: "App scopes: who should hold an app; vpp keeps Apple's licences equal to it.",
        subcommands: [Set.self, Show.self, List.self, Waitlist.self, Delete.self]
    )

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or replace a scope (--dry-run: the plan only, nothing changed)."
        )
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Argument(help: "The app's adamId.") var adamId: String
        @Option(help: "STDQ or PLUS.") var pricing = "STDQ"
        @Option(help: "A group the scope names (repeatable).") var group: [String] = []
        @OptionGroup var members: MemberOptions
        @Option(help: "Higher first when licences run short.") var priority = 0
        @Option(help: "How long a device that left keeps its licence: 0, 90s, 30m, 24h, 7d.") var grace = "24h"
        @Flag(help: "Keep the app installed when a licence is revoked on leaving.") var keepInstalled = false
        @Flag(help: "Licences only: no InstallApplication (the MDM installs).") var licenceOnly = false
        @Flag(help: "Deliver by declaration: the device joins the app's declaration set once its licence is active.")
        var declaration = false
        @Flag(help: "The declaration's Install is Optional (the user installs it); Required without it.")
        var optional = false
        @Option(help: "Pin the app to this external version id (the declaration's Version); not with --updates.")
        var version: Int?
        @Option(help: "Automatic app updates: AlwaysOn, AlwaysOff or StoreSettings; not with --version.")
        var updates: String?
        @Flag(help: "Answer the plan and change nothing.") var dryRun = false
        @Flag(help: "Print JSON.") var json = false
        func run() async throws {
            var automaticUpdates: AutomaticAppUpdates?
            if let updates {
                guard let known = AutomaticAppUpdates(rawValue: updates) else {
                    throw ValidationError("--updates: AlwaysOn, AlwaysOff or StoreSettings.")
                }
                automaticUpdates = known
            }
            let terms: DeclarationTerms
            do {
                terms = try DeclarationTerms(
                    install: optional ? .optional : .required,
                    version: version,
                    automaticUpdates: automaticUpdates
                )
            } catch { throw ValidationError("--version/--updates: \(error)") }
            let graceSeconds: TimeInterval
            do { graceSeconds = try MDMError.duration(grace) } catch { throw ValidationError("--grace: \(error)") }
            let members = try self.members.assignees()
            guard let pricing = PricingParam(rawValue: pricing) else {
                throw ValidationError("--pricing: STDQ or PLUS.")
            }
            let scope = try AppScope(
                name: try ScopeName(name),
                asset: AssetKey(adamID: adamId, pricingParam: pricing),
                groups: try group.map { try GroupName($0) },
                serialNumbers: members.compactMap { if case .device(let s) = $0 { s } else { nil } },
                clientUserIDs: members.compactMap { if case .user(let u) = $0 { u } else { nil } },
                priority: priority,
                removalGraceSeconds: Int(graceSeconds),
                uninstallOnRemoval: !keepInstalled,
                mode: licenceOnly ? .licenceOnly : declaration ? .declaration : .install,
                declaration: terms
            )
            try await CLIContext.run(global) { context in
                let change = ScopeChangeView(try await manage(context).putScope(context.caller, scope, dryRun: dryRun))
                if json { return try Output.json(change) }
                print(dryRun ? "Scope \(name) (not stored):" : "Scope \(name) stored and reconciled.")
                printPlan(change.plan, dryRun: dryRun)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A scope: desired, licensed, waiting, the plan.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Flag(help: "Print JSON.") var json = false
        func run() async throws {
            try await CLIContext.run(global) { context in
                let status = try await manage(context).scope(context.caller, try ScopeName(name))
                let view = ScopeView(status.scope, status: status)
                if json { return try Output.json(view) }
                print(
                    "Scope \(view.name): app \(view.adamId)/\(view.pricingParam), \(view.mode), priority "
                        + "\(view.priority), grace \(view.removalGraceSeconds) s"
                )
                print("Groups: \(view.groups.isEmpty ? "-" : view.groups.joined(separator: ", "))")
                print(
                    "Declaration: Install \(view.install)"
                        + (view.version.map { ", Version \($0) (pinned)" } ?? "")
                        + (view.automaticUpdates.map { ", automatic updates \($0)" } ?? "")
                )
                print(
                    "Desired \(view.desired ?? 0), licensed \(view.licensed ?? 0), waiting \(view.waiting ?? 0), "
                        + "leaving \(view.pendingRemoval ?? 0)"
                )
                if let plan = view.plan { printPlan(plan, dryRun: false) }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Scopes with desired, licensed and waiting.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false
        func run() async throws {
            try await CLIContext.run(global) { context in
                let views = try await manage(context).scopes(context.caller).map { ScopeView($0.scope, status: $0) }
                if json { return try Output.json(views) }
                Output.table(
                    ["NAME", "APP", "PRIORITY", "DESIRED", "LICENSED", "WAITING", "LEAVING"],
                    views.map {
                        [
                            $0.name, $0.adamId, "\($0.priority)", "\($0.desired ?? 0)", "\($0.licensed ?? 0)",
                            "\($0.waiting ?? 0)", "\($0.pendingRemoval ?? 0)",
                        ]
                    }
                )
            }
        }
    }

    struct Waitlist: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Who waits for a licence, in the order served.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Option(help: "Entries per page.") var limit = 1000
        @Option(help: "Start after this position.") var after = 0
        @Flag(help: "Print JSON.") var json = false
        func run() async throws {
            try await CLIContext.run(global) { context in
                let entries = try await manage(context).waitlist(
                    context.caller,
                    try ScopeName(name),
                    after: after,
                    limit: limit
                ).map(WaitlistEntryView.init)
                let page = WaitlistPage(
                    entries: entries,
                    next: entries.count == limit ? entries.last.map { "\($0.position)" } : nil
                )
                if json { return try Output.json(page) }
                Output.table(
                    ["POSITION", "SERIAL", "USER", "SCOPE", "PRIORITY", "SINCE"],
                    entries.map {
                        [
                            "\($0.position)", $0.serialNumber ?? "-", $0.clientUserId ?? "-", $0.scope,
                            "\($0.priority)",
                            $0.since ?? "-",
                        ]
                    }
                )
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a scope: its licences follow its removal policy (--dry-run previews)."
        )
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Flag(help: "Answer the plan and change nothing.") var dryRun = false
        @Flag(help: "Print JSON.") var json = false
        func run() async throws {
            try await CLIContext.run(global) { context in
                let change = ScopeChangeView(
                    try await manage(context).deleteScope(context.caller, try ScopeName(name), dryRun: dryRun)
                )
                if json { return try Output.json(change) }
                print(dryRun ? "Deleting scope \(name) would:" : "Deleted scope \(name).")
                printPlan(change.plan, dryRun: dryRun)
            }
        }
    }
}

/// `vppctl app forecast ADAMID`: licences left, who waits, and when the pool runs out at the current pace.
struct AppForecastCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast",
        abstract: "Licences left, devices waiting, and when the pool runs out."
    )
    @OptionGroup var global: GlobalOptions
    @Argument var adamId: String
    @Option(help: "STDQ or PLUS.") var pricing = "STDQ"
    @Flag(help: "Print JSON.") var json = false
    func run() async throws {
        guard let pricing = PricingParam(rawValue: pricing) else { throw ValidationError("--pricing: STDQ or PLUS.") }
        let asset = AssetKey(adamID: adamId, pricingParam: pricing)
        try await CLIContext.run(global) { context in
            let waiting = try await context.useCases.manageDesiredState.waiting(context.caller, asset)
            let forecast = try await context.useCases.appForecast(context.caller, asset, waiting: waiting)
            let view = ForecastView(forecast)
            if json { return try Output.json(view) }
            print(view.summary)
            if view.belowAlert { print("Below the alert level.") }
        }
    }
}
