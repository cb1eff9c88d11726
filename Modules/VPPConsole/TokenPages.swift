import Foundation
import HTTPTypes
import Hummingbird
import VPPDomain
import VPPUseCases

/// One token as a row of the tokens table and as the head of its own page.
struct TokenRow: Sendable {
    let id: String
    let href: String
    let location: String
    let organisation: String
    let badge: String
    let tone: String
    let expiry: String
    let lastSync: String
    let lastSyncResult: String
    let syncFailed: Bool
    let apps: Int
    let licences: String
    let heldElsewhere: Bool
    let fingerprint: String
    let noticeRecipients: String
    let nextStep: String

    init(_ overview: TokenOverview, licences: (total: Int, assigned: Int)) {
        let token = overview.token
        id = token.id.description
        href = "/console/tokens/\(token.id)"
        location = token.location.name
        organisation = token.organizationName
        (badge, tone) = ConsoleFormat.badge(overview.status)
        expiry = ConsoleFormat.date(token.expiresAt)
        lastSync = overview.sync?.lastSuccessAt.map(ConsoleFormat.time) ?? "never"
        if let error = overview.sync?.lastError, !error.isEmpty {
            lastSyncResult = "Failed: \(error)"
            syncFailed = true
        } else {
            lastSyncResult = overview.sync?.lastSuccessAt == nil ? "Not synced yet" : "OK"
            syncFailed = false
        }
        apps = overview.appCount
        self.licences = "\(licences.assigned) of \(licences.total) assigned"
        if case .inUseElsewhere = overview.status { heldElsewhere = true } else { heldElsewhere = false }
        fingerprint = "sha256:\(token.secretFingerprint)"
        noticeRecipients = token.noticeRecipients.isEmpty ? "none" : token.noticeRecipients.joined(separator: ", ")
        nextStep = overview.nextStep
    }
}

/// The tokens page: the table and the upload form (with its dry-run result or error).
struct TokensPage: Sendable {
    struct DryRun: Sendable {
        let location: String
        let organisation: String
        let status: String
        let holder: String?
    }
    let chrome: Chrome
    let canManage: Bool
    let headers: [ConsoleTable<TokenRow>.Header]
    let rows: [TokenRow]
    let pager: ConsoleTable<TokenRow>.Pager
    let empty: Bool
    let emails: String
    let dryRunChecked: Bool
    let uploadError: String?
    let dryRun: DryRun?
}

/// One token's page: facts, actions, and its apps.
struct TokenPage: Sendable {
    struct AppLine: Sendable {
        let name: String
        let href: String
        let total: Int
        let assigned: Int
        let available: Int
    }
    let chrome: Chrome
    let token: TokenRow
    let canManage: Bool
    let headers: [ConsoleTable<AppLine>.Header]
    let apps: [AppLine]
    let pager: ConsoleTable<AppLine>.Pager
    let hasApps: Bool
    let actionError: String?
}

/// Take-over preview: who holds the token and what taking it over revokes.
struct TakeOverPage: Sendable {
    let chrome: Chrome
    let tokenHref: String
    let location: String
    let holder: String
    let count: String
    let one: Bool
    let licences: [String]
    let more: String?
    let action: String
}

/// Removal plan: what is revoked, what is re-licensed, what is uninstalled, what stays.
struct RemovePage: Sendable {
    let chrome: Chrome
    let tokenHref: String
    let location: String
    let revokeSentence: String
    let relicensed: [String]
    let uninstalls: [String]
    let appsLeaving: [String]
    let stays: String
    let action: String
}

/// `/console/tokens…`
enum TokenPages {
    static func add<Context: RemoteAddressRequestContext>(to group: RouterGroup<Context>, _ console: Console) {
        group.get("tokens") { request, _ in
            await console.page(request) { session in
                try await list(console, session, query: queryOf(request), notice: queryOf(request)["notice"])
            }
        }
        group.post("tokens") { request, context in
            await console.action(request, context) { session, form in try await upload(console, session, form) }
        }
        group.get("tokens/{id}") { request, context in
            await console.page(request) { session in
                try await detail(
                    console,
                    session,
                    try tokenID(context),
                    notice: queryOf(request)["notice"],
                    query: queryOf(request)
                )
            }
        }
        group.post("tokens/{id}/sync") { request, context in
            await console.action(request, context) { session, _ in
                let id = try tokenID(context)
                do {
                    _ = try await console.useCases.syncToken(session.caller, tokenID: id)
                } catch {
                    guard let message = console.formMessage(error) else { throw error }
                    return try await detail(console, session, id, error: message, status: .unprocessableContent)
                }
                return Console.redirect("/console/tokens/\(id)?notice=synced")
            }
        }
        group.post("tokens/{id}/renew") { request, context in
            await console.action(request, context) { session, form in
                let id = try tokenID(context)
                do {
                    let file = form.files["token_file"] ?? Data()
                    _ = try await console.useCases.renewToken(session.caller, tokenID: id, file: file)
                } catch {
                    guard let message = console.formMessage(error) else { throw error }
                    return try await detail(console, session, id, error: message, status: .unprocessableContent)
                }
                return Console.redirect("/console/tokens/\(id)?notice=renewed")
            }
        }
        group.get("tokens/{id}/take-over") { request, context in
            await console.page(request) { session in
                let id = try tokenID(context)
                try session.caller.require(.manageContentTokens)
                let preview = try await console.useCases.takeOverToken(
                    session.caller,
                    tokenID: id,
                    confirm: false,
                    dryRun: true
                )
                let location = try await overview(console, session, id).token.location.name
                let holder = preview.holder.map(Console.holderName) ?? "another holder"
                let names = try await appNames(console, session)
                let lines = preview.licencesToRevoke.prefix(200).map { record in
                    let app = names[record.asset.adamID] ?? "App \(record.asset.adamID)"
                    switch record.assignee {
                    case .serialNumber(let serial): return "\(app) on device \(serial)"
                    case .clientUserID(let user): return "\(app) for user \(user)"
                    }
                }
                let model = TakeOverPage(
                    chrome: await console.chrome(session, title: "Take over \(location)", section: "Tokens"),
                    tokenHref: "/console/tokens/\(id)",
                    location: location,
                    holder: holder,
                    count: ConsoleFormat.plural(preview.licencesToRevoke.count, "licence"),
                    one: preview.licencesToRevoke.count == 1,
                    licences: Array(lines),
                    more: preview.licencesToRevoke.count > 200
                        ? "and \(preview.licencesToRevoke.count - 200) more" : nil,
                    action: "/console/tokens/\(id)/take-over"
                )
                return console.renderer.page("take-over", model)
            }
        }
        group.post("tokens/{id}/take-over") { request, context in
            await console.action(request, context) { session, _ in
                let id = try tokenID(context)
                _ = try await console.useCases.takeOverToken(session.caller, tokenID: id, confirm: true)
                return Console.redirect("/console/tokens/\(id)?notice=taken-over")
            }
        }
        group.get("tokens/{id}/remove") { request, context in
            await console.page(request) { session in
                // The plan is readable to anyone who may read, but this page leads to removal: show it only to who may
                // remove.
                try session.caller.require(.manageContentTokens)
                let plan = try await console.useCases.removeToken.plan(
                    session.caller,
                    tokenID: try tokenID(context)
                )
                return console.renderer.page("remove", try await removePage(console, session, plan))
            }
        }
        group.post("tokens/{id}/remove") { request, context in
            await console.action(request, context) { session, _ in
                let remove = console.useCases.removeToken
                let plan = try await remove.plan(session.caller, tokenID: try tokenID(context))
                try await remove.apply(session.caller, plan: plan)
                return Console.redirect("/console/tokens?notice=removed")
            }
        }
    }

    /// App names by Apple id, for sentences about apps.
    static func appNames(_ console: Console, _ session: ConsoleSession) async throws -> [String: String] {
        Dictionary(
            try await console.useCases.catalogue.apps(session.caller).compactMap { app in
                app.name.map { (app.adamId, $0) }
            },
            uniquingKeysWith: { first, _ in first }
        )
    }

    static func tokenID(_ context: some RequestContext) throws -> TokenID {
        let text = try context.parameters.require("id")
        guard let id = TokenID(uuidString: text) else {
            throw ConsolePageError(status: .notFound, message: "No such token.")
        }
        return id
    }

    static func overview(_ console: Console, _ session: ConsoleSession, _ id: TokenID) async throws -> TokenOverview {
        guard let overview = try await console.useCases.listTokens.one(session.caller, id) else {
            throw StoreError.unknownToken(id)
        }
        return overview
    }

    static func list(
        _ console: Console,
        _ session: ConsoleSession,
        query: [String: String],
        notice: String?,
        emails: String = "",
        dryRunChecked: Bool = false,
        uploadError: String? = nil,
        dryRun: TokensPage.DryRun? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let licences = try await console.useCases.consoleLists.tokenTotals(session.caller)
        let rows = try await console.useCases.listTokens(session.caller).map { overview in
            TokenRow(overview, licences: licences[overview.token.id] ?? (0, 0))
        }
        let table = ConsoleTable(
            rows,
            columns: [
                .init(key: "location", label: "Location") { textOrder($0.location, $1.location) },
                .init(key: "organisation", label: "Organisation") { textOrder($0.organisation, $1.organisation) },
                .init(key: "status", label: "Status") { textOrder($0.badge, $1.badge) },
                .init(key: "expiry", label: "Expires") { $0.expiry < $1.expiry },
                .init(key: "sync", label: "Last sync") { $0.lastSync < $1.lastSync },
                .init(key: "apps", label: "Apps") { $0.apps < $1.apps },
                .init(key: "licences", label: "Licences") { $0.licences < $1.licences },
            ],
            defaultKey: "location",
            query: query,
            base: "/console/tokens"
        )
        let model = TokensPage(
            chrome: await console.chrome(
                session,
                title: "Tokens",
                section: "Tokens",
                notice: ConsoleFormat.notice(notice)
            ),
            canManage: session.caller.admin.can(.manageContentTokens),
            headers: table.headers,
            rows: table.rows,
            pager: table.pager,
            empty: rows.isEmpty,
            emails: emails,
            dryRunChecked: dryRunChecked,
            uploadError: uploadError,
            dryRun: dryRun
        )
        return console.renderer.page("tokens", model, status: status)
    }

    static func upload(_ console: Console, _ session: ConsoleSession, _ form: ConsoleForm) async throws -> Response {
        let emailText = form["emails"] ?? ""
        let emails = emailText.split(whereSeparator: { $0.isNewline || ",; \t".contains($0) }).map(String.init)
        let dryRun = form.flag("dry_run")
        let file = form.files["token_file"] ?? Data()
        do {
            try session.caller.require(.manageContentTokens)
            let result = try await console.useCases.uploadToken(
                session.caller,
                file: file,
                noticeRecipients: emails,
                dryRun: dryRun
            )
            if dryRun {
                let preview = TokensPage.DryRun(
                    location: result.location.name,
                    organisation: result.token?.organizationName ?? "",
                    status: ConsoleFormat.badge(result.status).text,
                    holder: result.otherHolder.map {
                        "\(Console.holderName($0))" + (result.otherTenantName.map { " (tenant \($0))" } ?? "")
                    }
                )
                return try await list(
                    console,
                    session,
                    query: [:],
                    notice: nil,
                    emails: emailText,
                    dryRunChecked: true,
                    dryRun: preview
                )
            }
            guard let token = result.token else { return Console.redirect("/console/tokens") }
            return Console.redirect(
                "/console/tokens/\(token.id)?notice=\(result.otherHolder == nil ? "uploaded" : "stored-elsewhere")"
            )
        } catch {
            guard let message = console.formMessage(error) else { throw error }
            return try await list(
                console,
                session,
                query: [:],
                notice: nil,
                emails: emailText,
                dryRunChecked: dryRun,
                uploadError: message,
                status: .unprocessableContent
            )
        }
    }

    static func detail(
        _ console: Console,
        _ session: ConsoleSession,
        _ id: TokenID,
        notice: String? = nil,
        error: String? = nil,
        status: HTTPResponse.Status = .ok,
        query: [String: String] = [:]
    ) async throws -> Response {
        let overview = try await overview(console, session, id)
        let location = overview.token.location.name
        let report = try await console.useCases.consoleLists.tokenApps(session.caller, id)
        let licences = report.reduce((total: 0, assigned: 0)) { ($0.total + $1.total, $0.assigned + $1.assigned) }
        let lines = report.map {
            TokenPage.AppLine(
                name: $0.name,
                href: "/console/apps/\($0.adamID)?pp=\($0.pricingParam)",
                total: $0.total,
                assigned: $0.assigned,
                available: $0.available
            )
        }
        let table = ConsoleTable(
            lines,
            columns: [
                .init(key: "name", label: "App") { textOrder($0.name, $1.name) },
                .init(key: "total", label: "Total") { $0.total < $1.total },
                .init(key: "assigned", label: "Assigned") { $0.assigned < $1.assigned },
                .init(key: "available", label: "Available") { $0.available < $1.available },
            ],
            defaultKey: "name",
            query: query,
            base: "/console/tokens/\(id)"
        )
        let model = TokenPage(
            chrome: await console.chrome(
                session,
                title: "Token \(location)",
                section: "Tokens",
                notice: ConsoleFormat.notice(notice)
            ),
            token: TokenRow(overview, licences: licences),
            canManage: session.caller.admin.can(.manageContentTokens),
            headers: table.headers,
            apps: table.rows,
            pager: table.pager,
            hasApps: !lines.isEmpty,
            actionError: error
        )
        return console.renderer.page("token", model, status: status)
    }

    static func removePage(
        _ console: Console,
        _ session: ConsoleSession,
        _ plan: RemovalPlan
    ) async throws -> RemovePage {
        let id = plan.token.id
        let location = plan.token.location.name
        let names = try await appNames(console, session)
        func app(_ adamID: String) -> String { names[adamID].map { "\($0) (\(adamID))" } ?? "App \(adamID)" }
        let revoke = plan.licencesToRevoke.count
        let revokeSentence =
            revoke == 0
            ? "No licence was granted from this token: nothing is revoked."
            : plan.canRevokeAtApple
                ? "\(ConsoleFormat.plural(revoke, "licence")) granted from this token \(revoke == 1 ? "is" : "are") "
                    + "revoked at Apple."
                : "\(ConsoleFormat.plural(revoke, "licence")) granted from this token cannot be revoked at Apple "
                    + "(the token no longer works); "
                    + "vpp forgets them."
        return RemovePage(
            chrome: await console.chrome(session, title: "Remove \(location)", section: "Tokens"),
            tokenHref: "/console/tokens/\(id)",
            location: location,
            revokeSentence: revokeSentence,
            relicensed: plan.relicences.map {
                "\(ConsoleFormat.assignee($0.assignee)) keeps \(app($0.asset.adamID)), now licensed by \($0.toLocation)"
            },
            uninstalls: plan.uninstalls.map { "\(app($0.adamID)) is uninstalled from device \($0.serialNumber)" }
                + plan.leaves.map {
                    "Device \($0.serialNumber) leaves \(app($0.asset.adamID))'s declaration set (the device removes it)"
                },
            appsLeaving: plan.appsLeaving.map { "\(app($0.adamID)) leaves the repository (no other token has it)" },
            stays:
                "Other tokens, their apps and licences stay as they are. Apple Business Manager keeps the purchases: "
                + "upload the token again to use them later.",
            action: "/console/tokens/\(id)/remove"
        )
    }
}

/// The request's query parameters (the first of each name), percent-decoded.
func queryOf(_ request: Request) -> [String: String] {
    var result: [String: String] = [:]
    for (key, value) in request.uri.queryParameters where result[String(key)] == nil {
        result[String(key)] = String(value)
    }
    return result
}
