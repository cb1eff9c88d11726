import ArgumentParser
import Foundation
import VPPComposition
import VPPDomain
import VPPUseCases

struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey",
        abstract: "API keys for vppd: create, list, revoke, rotate.",
        discussion: "Revocation takes effect on every vppd at once: servers read the key on every request (no cache).",
        subcommands: [Create.self, List.self, Revoke.self, Rotate.self]
    )

    /// The API's representation of a key (`GET /v1/api-keys`), so `--json` matches it.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a key; it is printed once and stored only hashed."
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "read-only, app-management or mdm-admin.") var role: String
        @Option(help: "A name to recognise the key by.") var name = "api"
        @Option(help: "Expiry, RFC 3339 (e.g. 2027-01-31T00:00:00Z); default: never.") var expiresAt: String?
        func run() async throws {
            guard let parsed = Role(rawValue: role) else {
                throw ValidationError("--role must be read-only, app-management or mdm-admin")
            }
            var expiry: Date?
            if let expiresAt {
                guard let date = ISO8601DateFormatter().date(from: expiresAt) else {
                    throw ValidationError("--expires-at must be an RFC 3339 time, e.g. 2027-01-31T00:00:00Z")
                }
                expiry = date
            }
            try await CLIContext.run(global) { context in
                let (key, _) = try await context.useCases.manageAPIKeys.create(
                    context.caller,
                    name: name,
                    role: parsed,
                    expiresAt: expiry
                )
                print(key)
                FileHandle.standardError.write(
                    Data("Store this key now: vpp keeps only its hash and cannot show it again.\n".utf8)
                )
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the tenant's keys (never the keys themselves).")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON (the API's representation).") var json = false
        func run() async throws {
            try await CLIContext.run(global) { context in
                let keys = try await context.useCases.manageAPIKeys.list(context.caller)
                if json {
                    try Output.json(keys.map(APIKeyView.init))
                    return
                }
                let now = Date()
                Output.table(
                    ["ID", "NAME", "ROLE", "CREATED", "BY", "LAST USED", "EXPIRES", "STATE"],
                    keys.map { key in
                        [
                            key.id.uuidString.lowercased(), key.name, key.role.rawValue, Output.date(key.createdAt),
                            key.createdBy,
                            key.lastUsedAt.map(Output.date) ?? "never", key.expiresAt.map(Output.date) ?? "never",
                            key.revokedAt != nil ? "revoked" : key.isUsable(at: now) ? "active" : "expired",
                        ]
                    }
                )
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a key (by id or name); refused by every server from now on."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The key's id or name.") var key: String
        func run() async throws {
            try await CLIContext.run(global) { context in
                let keys = context.useCases.manageAPIKeys
                let revoked = try await keys.revoke(context.caller, id: try await Self.resolve(key, keys, context))
                print("Revoked API key \(revoked.name) (\(revoked.id.uuidString.lowercased())).")
            }
        }

        /// An id, or the name of exactly one active key.
        static func resolve(_ text: String, _ keys: ManageAPIKeys, _ context: CLIContext) async throws -> UUID {
            if let id = UUID(uuidString: text) { return id }
            let matches = try await keys.list(context.caller).filter { $0.name == text && $0.revokedAt == nil }
            guard matches.count == 1, let match = matches.first else {
                throw CommandFailure(
                    matches.isEmpty
                        ? "No active API key named \"\(text)\". `vppctl apikey list` shows them."
                        : "\(matches.count) active keys are named \"\(text)\"; give the id."
                )
            }
            return match.id
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a key with a new one (same name, role, expiry); the old one is revoked."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The key's id or name.") var key: String
        func run() async throws {
            try await CLIContext.run(global) { context in
                let keys = context.useCases.manageAPIKeys
                let (newKey, _) = try await keys.rotate(
                    context.caller,
                    id: try await Revoke.resolve(key, keys, context)
                )
                print(newKey)
                FileHandle.standardError.write(
                    Data("The old key is revoked. Store this key now: it cannot be shown again.\n".utf8)
                )
            }
        }
    }
}

struct SecretsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets",
        abstract: "Encryption of stored secrets.",
        subcommands: [Rotate.self]
    )

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-encrypt every stored secret under the current key.",
            discussion: """
                Rotation: give every server the new key as VPP_ENCRYPTION_KEY and the old one as \
                VPP_ENCRYPTION_KEY_PREVIOUS
                (or the _FILE forms) and restart them; run this once; then drop the previous key. Safe to run again.
                """
        )
        @OptionGroup var global: GlobalOptions
        func run() async throws {
            try await CLIContext.run(global) { context in
                let rotation = try await EncryptionKeyCheck(
                    store: context.useCases.ports.store,
                    secrets: context.useCases.ports.secrets,
                    clock: context.useCases.ports.clock
                ).rotate()
                let total = rotation.resealed.values.reduce(0, +)
                print(
                    "Re-encrypted \(total) secret(s) under key \(rotation.keyID); the previous key is no longer needed."
                )
            }
        }
    }
}
