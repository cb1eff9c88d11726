import ArgumentParser
import Foundation
import VPPUseCases

/// `vppctl audit`: the tenant's audit log, newest first, page by page.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The audit log, newest first, page by page (--json: the API's representation, GET /v1/audit)."
    )
    @OptionGroup var global: GlobalOptions
    @OptionGroup var page: PageOptions
    @Option(help: "Records at or after this RFC 3339 time.") var since: String?
    @Option(help: "Records before this RFC 3339 time.") var until: String?
    @Option(help: "Exactly this actor, e.g. api-key:gitops or cli:ana.") var actor: String?
    @Option(help: "Exactly this action, e.g. apikey.create.") var action: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let filter = AuditFilter(
            since: try Self.time(since, "--since"),
            until: try Self.time(until, "--until"),
            actor: actor,
            action: action
        )
        try await CLIContext.run(global) { context in
            let catalogue = context.useCases.catalogue
            try await Pager<AuditView>(
                options: page,
                json: json,
                headers: ["AT", "ACTOR", "ACTION", "TARGET", "OUTCOME"],
                row: { [$0.at, $0.actor, $0.action, $0.target, $0.outcome] }
            ).run { after, limit in
                try await catalogue.auditPage(context.caller, filter: filter, after: after, limit: limit)
            }
        }
    }

    static func time(_ text: String?, _ option: String) throws -> Date? {
        guard let text else { return nil }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let date = formatter.date(from: text) else {
            throw ValidationError("\(option) must be an RFC 3339 time, e.g. 2027-01-31T00:00:00Z (got \(text)).")
        }
        return date
    }
}
