import ArgumentParser
import Foundation
import VPPDomain
import VPPUseCases

/// `vppctl mdm connect|show|reclaim`: the tenant's MDM server connection.
struct MDMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mdm",
        abstract: "The tenant's MDM server: where device commands go.",
        subcommands: [Connect.self, Show.self, Reclaim.self, Delivery.self, Declarations.self]
    )

    struct Declarations: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The DDM server the tenant's app declarations go to (kmfddm, webhook, pull or off).",
            discussion: """
                kmfddm also serves NanoHUB's embedded KMFDDM. The API key is read from a file, stored encrypted and \
                never printed. webhook sends any other DDM server signed Standard Webhooks events \
                (declaration.published, declaration_set.joined, declaration_set.left) and prints its whsec_ signing \
                secret once; choosing webhook again keeps that secret unless --rotate-secret (a new one, printed \
                once). pull leaves the changes queued for a DDM server that polls GET /v1/declaration-changes \
                and reports each with POST /v1/declaration-changes/{id}/ack. Without an argument, prints the current \
                setting.
                """
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "kmfddm, webhook, pull or off.") var kind: String?
        @Option(help: "The DDM server's base URL.") var url: String?
        @Option(help: "File holding the DDM server's API key.") var apiKeyFile: String?
        @Flag(help: "webhook chosen again: make a new signing secret (the receiver needs it).") var rotateSecret = false

        func run() async throws {
            let key: String?
            do {
                key = try apiKeyFile.map { try String(contentsOfFile: $0, encoding: .utf8) }
            } catch {
                throw CommandFailure("Cannot read \(apiKeyFile ?? ""): \(error.localizedDescription)")
            }
            try await CLIContext.run(global) { context in
                let configure = context.useCases.configureAppDelivery
                if let kind {
                    guard let value = DeclarationPublisherKind(rawValue: kind) else {
                        throw CommandFailure("Unknown DDM server kind \"\(kind)\"; use kmfddm, webhook, pull or off.")
                    }
                    if let secret = try await configure.setPublisher(
                        context.caller,
                        value,
                        url: url,
                        apiKey: key,
                        rotateSecret: rotateSecret
                    ) {
                        print("Signing secret (shown once; the receiver verifies webhook-signature with it): \(secret)")
                    } else if value == .webhook {
                        print("The signing secret is unchanged (--rotate-secret makes a new one).")
                    }
                }
                let current = try await configure.publisher(context.caller)
                print("Declarations go to: \(current.kind.rawValue)\(current.url.map { " at \($0)" } ?? "")")
            }
        }
    }

    struct Delivery: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The tenant's default app delivery: commands (InstallApplication) or declarations.",
            discussion: """
                Without an argument, prints the current default. A scope's mode declaration or licenceOnly wins over \
                it for its app.
                """
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "commands or declarations.") var delivery: String?

        func run() async throws {
            try await CLIContext.run(global) { context in
                let configure = context.useCases.configureAppDelivery
                if let delivery {
                    guard let value = AppDelivery(rawValue: delivery) else {
                        throw CommandFailure("Unknown delivery \"\(delivery)\"; use commands or declarations.")
                    }
                    try await configure.set(context.caller, value)
                }
                print("App delivery: \(try await configure.show(context.caller).rawValue)")
            }
        }
    }

    struct Connect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect the tenant to its MDM server (nanomdm, micromdm, webhook or pull).",
            discussion: """
                Secrets are read from files, stored encrypted and never printed. nanomdm also serves NanoHUB (a URL \
                ending in
                /api/v1/nanomdm). The webhook kind prints its whsec_ signing secret once. Give the MDM server the \
                webhook URL that
                `mdm show` prints (NanoMDM: -webhook-url, and -webhook-hmac-key with the same key as --hmac-key-file).
                Without --hmac-key-file, vpp generates the webhook key and prints it once, with a webhook URL holding
                it for MDM servers that cannot sign; device events without the key are refused.
                """
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "nanomdm, micromdm, webhook or pull.") var kind: String
        @Option(help: "The MDM server's base URL (webhook: the endpoint).") var url: String?
        @Option(help: "File holding the MDM server's API key.") var apiKeyFile: String?
        @Option(help: "File holding the key the MDM server signs its webhook with (X-Hmac-Signature).") var hmacKeyFile:
            String?
        @Option(help: "Reclaim an unenrolled device's licences after this long (0 = at once; default 24h).")
        var reclaimAfter: String?
        @Option(help: "A device silent this many days counts as unenrolled.") var silentDays: Int?
        @Option(help: "Licence-only mode: true = assign without sending installs (third-party installers).")
        var licenceOnly: Bool?
        @Option(help: "Licence-only for these adamIds (comma-separated).") var licenceOnlyApps: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard let kind = MDMKind(rawValue: kind) else {
                throw CommandFailure(
                    "Unknown MDM kind \"\(kind)\"; use one of "
                        + "\(MDMKind.allCases.map(\.rawValue).joined(separator: ", "))."
                )
            }
            func secret(_ path: String?) throws -> String? {
                guard let path else { return nil }
                do {
                    return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(
                        in: .whitespacesAndNewlines
                    )
                } catch {
                    throw CommandFailure("Cannot read \(path): \(error.localizedDescription)")
                }
            }
            let request = MDMConnectionRequest(
                kind: kind,
                url: url ?? "",
                apiKey: try secret(apiKeyFile),
                webhookHMACKey: try secret(hmacKeyFile),
                reclaimAfter: try reclaimAfter.map { text in
                    do { return try MDMError.duration(text) } catch { throw CommandFailure("\(error)") }
                },
                silentDaysUnenrolled: silentDays,
                licenceOnly: licenceOnly,
                licenceOnlyAdamIDs: licenceOnlyApps.map {
                    Set($0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
                }
            )
            try await CLIContext.run(global) { context in
                let view = try await context.useCases.configureMDM.connect(context.caller, request)
                if json {
                    try Output.json(view)
                    return
                }
                print("Connected to \(view.kind) at \(view.url).")
                if let secret = view.signingSecret {
                    print("Webhook signing secret (shown once; give it to the receiver): \(secret)")
                }
                if let webhook = view.webhookURL { print("Give the MDM server this webhook URL: \(webhook)") }
                if let key = view.webhookKey {
                    print("Webhook key (shown once; the MDM server signs its events with it): \(key)")
                    if let url = view.webhookSecretURL {
                        print("Or, for an MDM server that cannot sign, this webhook URL (shown once): \(url)")
                    }
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Kind, URL, the webhook URL for the MDM server, and device commands by state."
        )
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await CLIContext.run(global) { context in
                let view = try await context.useCases.configureMDM.show(context.caller)
                if json {
                    try Output.json(view)
                    return
                }
                Output.table(
                    ["SETTING", "VALUE"],
                    [
                        ["kind", view.kind], ["url", view.url],
                        ["webhook URL", view.webhookURL ?? "(set VPP_PUBLIC_URL)"],
                        ["API key", view.hasAPIKey ? "set" : "none"],
                        [
                            "webhook HMAC key",
                            view.hasWebhookHMACKey ? "set" : "none: device events are refused until one is set",
                        ],
                        ["reclaim after", "\(view.reclaimAfterSeconds) s"],
                        ["silent days", view.silentDaysUnenrolled.map(String.init) ?? "-"],
                        [
                            "licence only",
                            view.licenceOnly
                                ? "yes"
                                : (view.licenceOnlyAdamIds.isEmpty
                                    ? "no" : view.licenceOnlyAdamIds.joined(separator: ",")),
                        ],
                        ["disabled", view.disabledReason ?? "no"],
                    ] + view.commands.sorted { $0.key < $1.key }.map { ["commands \($0.key)", "\($0.value)"] }
                )
            }
        }
    }

    struct Reclaim: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reclaim the licences of devices that left MDM past the grace period."
        )
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Only list what would be reclaimed.") var dryRun = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await CLIContext.run(global) { context in
                let items = try await context.useCases.reclaimUnenrolledDevices(
                    context.caller,
                    dryRun: dryRun
                )
                if json {
                    try Output.json(items)
                    return
                }
                Output.table(
                    ["SERIAL", "UNENROLLED", "APPS", dryRun ? "PLAN" : "RESULT"],
                    items.map {
                        [
                            $0.serialNumber, $0.unenrolledAt.map(Output.date) ?? "-", $0.adamIds.joined(separator: ","),
                            $0.error ?? (dryRun ? "would revoke" : "revoked"),
                        ]
                    }
                )
            }
        }
    }
}

/// `vppctl command list`: device commands and their delivery state.
struct CommandCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "command",
        abstract: "Device commands for the MDM server.",
        subcommands: [List.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List device commands (oldest first) with state, attempts and last error."
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this device.") var serial: String?
        @Option(help: "Only this state (queued, delivered, acknowledged, error, notNow, verified, failed, skipped).")
        var state: String?
        @Option(help: "At most this many.") var limit = 1000
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            var states: Set<DeviceCommandState>?
            if let state {
                guard let parsed = DeviceCommandState(rawValue: state) else {
                    throw CommandFailure(
                        "Unknown state \"\(state)\"; use one of "
                            + "\(DeviceCommandState.allCases.map(\.rawValue).joined(separator: ", "))."
                    )
                }
                states = [parsed]
            }
            let query = DeviceCommandQuery(serialNumber: serial?.uppercased(), states: states, limit: limit)
            try await CLIContext.run(global) { context in
                let rows = try await context.useCases.deviceCommandList.list(context.caller, query)
                if json {
                    try Output.json(rows)
                    return
                }
                Output.table(
                    ["ID", "SERIAL", "COMMAND", "ADAM ID", "STATE", "ATTEMPTS", "LAST ERROR"],
                    rows.map {
                        [
                            String($0.id.prefix(8)), $0.serialNumber, $0.requestType, $0.adamId ?? "-", $0.state,
                            "\($0.attempts)", $0.lastError ?? "",
                        ]
                    }
                )
            }
        }
    }
}
