import ArgumentParser
import Foundation
import VPPDomain
import VPPUseCases

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Content tokens: upload, list, show, sync, renew, take over, remove, inspect.",
        subcommands: [
            Upload.self, List.self, Show.self, Sync.self, Renew.self, TakeOver.self, Remove.self, Inspect.self,
        ]
    )

    struct Upload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upload a .vpptoken: validate with Apple, claim, store encrypted, sync."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The .vpptoken file.") var file: String
        @Option(name: .customLong("email"), help: "Address for expiry notices (repeatable).") var emails: [String] = []
        @Flag(help: "Take the token over from the MDM or Apple Configurator that holds it.") var takeOver = false
        @Flag(help: "Show what would happen; change nothing.") var dryRun = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let data = try readFile(file)
            try await CLIContext.run(global) { context in
                Output.progress("Uploading and syncing \(file)…")
                let result = try await context.useCases.uploadToken(
                    context.caller,
                    file: data,
                    noticeRecipients: emails,
                    takeOver: takeOver,
                    dryRun: dryRun
                )
                Output.progress("", done: true)
                if json {
                    try Output.json(UploadView(result))
                    return
                }
                let holder = result.otherHolder.map { h in
                    result.otherTenantName.map { "another tenant here (\($0))" } ?? "\(h)"
                }
                print("Location:  \(result.location.name) (\(result.location.appleID), \(result.location.countryCode))")
                print("Status:    \(result.status.code.replacingOccurrences(of: "_", with: " "))")
                if let holder { print("Held by:   \(holder)") }
                if let preview = result.takeOverPreview {
                    print("Take-over revokes \(preview.count) licence(s) the other holder assigned:")
                    for record in preview.prefix(20) { print("  \(record.asset.adamID) → \(record.assignee)") }
                    if preview.count > 20 { print("  … and \(preview.count - 20) more") }
                }
                if let sync = result.sync {
                    print("Synced:    \(sync.assets) app(s), \(sync.assignmentsFromApple) licence(s) at Apple")
                }
                print(result.stored ? "Stored as token \(result.token!.id)." : "Dry run: nothing changed.")
                if result.otherHolder != nil && !takeOver {
                    print("Next:      \(result.status.nextStep)")
                    let command = NextStepCommand.command(
                        status: result.status.code,
                        location: result.location.name,
                        file: file
                    )
                    if let command { print("Command:   \(command)") }
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens with their status and what to do next.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await CLIContext.run(global) { context in
                let now = context.useCases.ports.clock.now()
                let views = try await context.useCases.listTokens(context.caller).map {
                    TokenView($0, now: now)
                }
                if json {
                    try Output.json(views)
                    return
                }
                Output.table(
                    ["ID", "LOCATION", "STATUS", "EXPIRES", "DAYS", "APPS", "NEXT STEP"],
                    views.map {
                        [
                            String($0.id.prefix(8)), $0.location, $0.status, String($0.expiresAt.prefix(10)),
                            "\($0.daysLeft)", "\($0.apps)", $0.nextStep,
                        ]
                    }
                )
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one token.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Token id (or its first characters' full id), or location name.") var token: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await CLIContext.run(global) { context in
                let target = try await context.token(token)
                let now = context.useCases.ports.clock.now()
                guard let overview = try await context.useCases.listTokens.one(context.caller, target.id)
                else { return }
                let view = TokenView(overview, now: now)
                if json {
                    try Output.json(view)
                    return
                }
                for (label, value) in [
                    ("ID", view.id), ("Location", "\(view.location) (\(view.locationId), \(view.country))"),
                    ("Organisation", view.organization), ("Expires", "\(view.expiresAt) (\(view.daysLeft) days)"),
                    ("Status", view.status), ("Next step", view.nextStep),
                    ("Command", NextStepCommand.command(status: view.status, location: view.location) ?? "-"),
                    ("Holder", view.holder ?? "-"),
                    ("Secret", view.fingerprint), ("Apps", "\(view.apps)"), ("Last sync", view.lastSync ?? "never"),
                    ("Sync error", view.lastSyncError ?? "-"),
                    ("Notices to", view.noticeRecipients.joined(separator: ", ")),
                ] {
                    print(label.padding(toLength: 13, withPad: " ", startingAt: 0) + value)
                }
            }
        }
    }

    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sync a token (or all) with Apple now.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Token id or location; all usable tokens when omitted.") var token: String?

        func run() async throws {
            try await CLIContext.run(global) { context in
                let targets: [ContentToken]
                if let token {
                    targets = [try await context.token(token)]
                } else {
                    targets = try await context.useCases.listTokens(context.caller).filter(\.status.isUsable)
                        .map(\.token)
                }
                for (index, target) in targets.enumerated() {
                    Output.progress("[\(index + 1)/\(targets.count)] syncing \(target.location.name)…")
                    let report = try await context.useCases.syncToken(context.caller, tokenID: target.id)
                    Output.progress("", done: true)
                    print(
                        "\(target.location.name): \(report.assets) app(s), \(report.assignmentsFromApple) "
                            + "licence(s) from Apple "
                            + "(\(report.incremental ? "incremental" : "full"), +\(report.inserted) "
                            + "−\(report.deleted))"
                    )
                }
            }
        }
    }

    struct Renew: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a token with a new file for the same location."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Token id or location.") var token: String
        @Argument(help: "The new .vpptoken file.") var file: String

        func run() async throws {
            let data = try readFile(file)
            try await CLIContext.run(global) { context in
                let target = try await context.token(token)
                let renewed = try await context.useCases.renewToken(
                    context.caller,
                    tokenID: target.id,
                    file: data
                )
                print("Renewed \(renewed.location.name): expires \(ISO8601Timestamp.format(renewed.expiresAt)).")
            }
        }
    }

    struct TakeOver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "take-over",
            abstract: "Take a stored token over from its other holder."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Token id or location.") var token: String
        @Flag(help: "List what would be revoked; change nothing.") var dryRun = false
        @Flag(help: "Confirm the take-over.") var yes = false

        func run() async throws {
            try await CLIContext.run(global) { context in
                let target = try await context.token(token)
                let result = try await context.useCases.takeOverToken(
                    context.caller,
                    tokenID: target.id,
                    confirm: yes,
                    dryRun: dryRun
                )
                print(
                    "Held by \(result.holder.map { "\($0)" } ?? "-"); \(result.licencesToRevoke.count) licence(s) "
                        + "to revoke."
                )
                print(
                    result.applied
                        ? "Taken over and synced." : "Dry run: nothing changed. Run again with --yes to take over."
                )
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a token: shows the plan; --yes carries it out."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Token id or location.") var token: String
        @Flag(help: "Only show the plan (the default without --yes).") var dryRun = false
        @Flag(help: "Carry out the plan.") var yes = false

        func run() async throws {
            try await CLIContext.run(global) { context in
                let target = try await context.token(token)
                let remove = context.useCases.removeToken
                let plan = try await remove.plan(context.caller, tokenID: target.id)
                printPlan(plan)
                guard yes && !dryRun else {
                    print("Dry run: nothing changed. Run again with --yes to remove.")
                    return
                }
                try await remove.apply(context.caller, plan: plan)
                print("Removed \(plan.token.location.name).")
            }
        }
    }

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a .vpptoken file offline (organisation, expiry, fingerprint)."
        )
        @Argument(help: "Path to the .vpptoken file.") var file: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let summary: TokenFileSummary
            do { summary = try InspectTokenFile(clock: SystemClock())(try readFile(file)) } catch let error
                as TokenFileError
            {
                throw CommandFailure("\(file): \(error.description)")
            }
            if json {
                try Output.json(summary)
                return
            }
            print("Organisation: \(summary.organizationName)")
            print("Expires:      \(summary.expiresAt) (\(summary.daysLeft) days left)")
            print("Fingerprint:  sha256:\(summary.secretFingerprint)")
        }
    }
}

func printPlan(_ plan: RemovalPlan) {
    print("Removing \(plan.token.location.name) would:")
    print(
        "  revoke \(plan.licencesToRevoke.count) licence(s) at Apple"
            + (plan.canRevokeAtApple ? "" : " (impossible now: the token no longer works at Apple)")
    )
    printPlanLine(
        "re-license \(plan.relicences.count) device(s)/user(s) from another token",
        plan.relicences.map { "\($0.assignee) → \($0.toLocation)" }
    )
    printPlanLine(
        "queue \(plan.uninstalls.count) uninstall command(s)",
        plan.uninstalls.map { "\($0.serialNumber) \($0.adamID)" }
    )
    printPlanLine(
        "take \(plan.leaves.count) device(s) out of apps' declaration sets",
        plan.leaves.map { "\($0.serialNumber) \($0.asset.adamID)" }
    )
    printPlanLine("drop \(plan.appsLeaving.count) app(s) no other token carries", plan.appsLeaving.map(\.adamID))
}

/// One line of a removal plan: its count, then the first few items (an empty list prints no dangling colon,
/// and a longer one says how many it did not show).
private func printPlanLine(_ summary: String, _ items: [String], shown: Int = 5) {
    guard !items.isEmpty else {
        print("  \(summary)")
        return
    }
    let more = items.count > shown ? " … and \(items.count - shown) more" : ""
    print("  \(summary): " + items.prefix(shown).joined(separator: ", ") + more)
}

/// JSON of an upload.
struct UploadView: Encodable {
    let location: String
    let status: String
    let holder: String?
    let otherTenant: String?
    let stored: Bool
    let tokenId: String?
    let takeOverRevokes: Int?

    init(_ result: UploadTokenResult) {
        location = result.location.name
        status = result.status.code
        holder = result.otherHolder.map { "\($0)" }
        otherTenant = result.otherTenantName
        stored = result.stored
        tokenId = result.token?.id.description
        takeOverRevokes = result.takeOverPreview?.count
    }
}
