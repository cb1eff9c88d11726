import Foundation
import HTTPTypes
import Hummingbird
import VPPDomain
import VPPUseCases

/// One app of the pooled repository as a table row.
struct AppRow: Sendable {
    let name: String
    let initial: String
    let href: String
    let adamID: String
    let kind: String
    let total: Int
    let assigned: Int
    let available: Int
    let breakdown: String
    let warning: String?
    let tone: String

    init(_ app: AppView, breakdown: [LicenceReportRow]) {
        name = app.name ?? "App \(app.adamId)"
        initial = String(name.first.map { String($0).uppercased() } ?? "?")
        href = "/console/apps/\(app.adamId)?pp=\(app.pricingParam)"
        adamID = app.adamId
        kind = app.productType
        total = app.total
        assigned = app.assigned
        available = app.available
        self.breakdown = breakdown.map { "\($0.location): \($0.assigned) of \($0.total)" }.joined(separator: "; ")
        if app.total > 0, app.available <= 0 {
            warning = "None left"
            tone = "bad"
        } else if app.total > 0, app.assigned * 10 >= app.total * 9 {
            warning = "\(app.assigned * 100 / app.total) % used"
            tone = "warn"
        } else {
            warning = nil
            tone = "ok"
        }
    }
}

/// The apps page: one row per app, pooled across tokens.
struct AppsPage: Sendable {
    let chrome: Chrome
    let headers: [ConsoleTable<AppRow>.Header]
    let rows: [AppRow]
    let pager: ConsoleTable<AppRow>.Pager
    let empty: Bool
}

/// One licence on an app's page.
struct LicenceRow: Sendable {
    let assignee: String
    let value: String
    let token: String
    let state: String
    /// When the licence last changed.
    let since: String
    let detail: String
    let revocable: Bool
    let waiting: Bool
}

/// An app's page: its pool, its licences (revoke), and assignment to devices.
struct AppPage: Sendable {
    struct Pick: Sendable {
        let serial: String
        let label: String
        let id: String
    }
    let chrome: Chrome
    let app: AppRow
    let canAssign: Bool
    let headers: [ConsoleTable<LicenceRow>.Header]
    let licences: [LicenceRow]
    let pager: ConsoleTable<LicenceRow>.Pager
    let noLicences: Bool
    let picks: [Pick]
    let serials: String
    let users: String
    let assignError: String?
    let assignAction: String
    let revokeAction: String
    /// Licences are on their way at Apple: the page refreshes itself (with JavaScript) until they settle.
    let refresh: Bool
    /// Licences used over the last 90 days and the projection to exhaustion.
    let forecast: ForecastChart?
}

/// The revoke confirmation: what is revoked and what that does.
struct RevokePage: Sendable {
    let chrome: Chrome
    let appName: String
    let appHref: String
    let action: String
    let assignees: [String]
    /// The form values carried to the confirmation.
    let values: [String]
    let consequence: String
}

/// `/console/apps…`
enum AppPages {
    static func add<Context: RemoteAddressRequestContext>(to group: RouterGroup<Context>, _ console: Console) {
        group.get("apps") { request, _ in
            await console.page(request) { session in
                let rows = try await console.useCases.consoleLists.apps(session.caller).map {
                    AppRow($0.app, breakdown: $0.perToken)
                }
                let table = ConsoleTable(
                    rows,
                    columns: [
                        .init(key: "name", label: "App") { textOrder($0.name, $1.name) },
                        .init(key: "total", label: "Total") { $0.total < $1.total },
                        .init(key: "assigned", label: "Assigned") { $0.assigned < $1.assigned },
                        .init(key: "available", label: "Available") { $0.available < $1.available },
                    ],
                    defaultKey: "name",
                    query: queryOf(request),
                    base: "/console/apps"
                )
                let model = AppsPage(
                    chrome: await console.chrome(session, title: "Apps", section: "Apps"),
                    headers: table.headers,
                    rows: table.rows,
                    pager: table.pager,
                    empty: rows.isEmpty
                )
                return console.renderer.page("apps", model)
            }
        }
        group.get("apps/{adamId}") { request, context in
            await console.page(request) { session in
                try await detail(console, session, try asset(request, context), query: queryOf(request))
            }
        }
        group.post("apps/{adamId}/assign") { request, context in
            await console.action(request, context) { session, form in
                let key = try asset(request, context)
                let pasted = form["serials"] ?? ""
                let users = form["users"] ?? ""
                do {
                    let texts =
                        form.all("pick")
                        + pasted.split(whereSeparator: { $0.isNewline || ", ;\t".contains($0) }).map(String.init)
                    let userIDs = users.split(whereSeparator: { $0.isNewline || ", ;\t".contains($0) }).map(String.init)
                    let assignees =
                        try texts.map { Assignee.device(try SerialNumber($0)) }
                        + userIDs.map { Assignee.user(try ClientUserID($0)) }
                    _ = try await console.useCases.assignLicences(session.caller, asset: key, to: assignees)
                } catch {
                    guard let message = console.formMessage(error) else { throw error }
                    return try await detail(
                        console,
                        session,
                        key,
                        query: [:],
                        serials: pasted,
                        users: users,
                        assignError: message,
                        status: .unprocessableContent
                    )
                }
                return Console.redirect("\(path(key))&notice=assigned")
            }
        }
        group.post("apps/{adamId}/revoke") { request, context in
            await console.action(request, context) { session, form in
                let key = try asset(request, context)
                let assignees = try form.all("assignee").map(parseAssignee)
                guard form["confirm"] == "yes" else {
                    try session.caller.require(.manageLicences)
                    guard !assignees.isEmpty else { throw UseCaseError.noAssignees }
                    let name = try await appName(console, session, key)
                    let model = RevokePage(
                        chrome: await console.chrome(session, title: "Revoke licences", section: "Apps"),
                        appName: name,
                        appHref: path(key),
                        action: "/console/apps/\(key.adamID)/revoke?pp=\(key.pricingParam.rawValue)",
                        assignees: assignees.map(ConsoleFormat.assignee),
                        values: form.all("assignee"),
                        consequence: "Apple takes back \(ConsoleFormat.plural(assignees.count, "licence")) of \(name). "
                            + "Each device listed gets a command to uninstall the app; users lose it on their devices. "
                            + "The licences return to the pool. Other apps and other licences stay as they are."
                    )
                    return console.renderer.page("revoke", model)
                }
                _ = try await console.useCases.revokeLicences(session.caller, asset: key, from: assignees)
                return Console.redirect("\(path(key))&notice=revoked")
            }
        }
    }

    static func asset(_ request: Request, _ context: some RequestContext) throws -> AssetKey {
        let adamID = try context.parameters.require("adamId")
        guard !adamID.isEmpty, adamID.count <= 32, adamID.allSatisfy({ $0.isNumber }) else {
            throw ConsolePageError(status: .notFound, message: "No such app.")
        }
        return AssetKey(
            adamID: adamID,
            pricingParam: queryOf(request)["pp"].flatMap(PricingParam.init(rawValue:)) ?? .standard
        )
    }

    static func path(_ key: AssetKey) -> String { "/console/apps/\(key.adamID)?pp=\(key.pricingParam.rawValue)" }

    /// The form value of a licence's assignee: `device:SERIAL` or `user:ID`.
    static func parseAssignee(_ text: String) throws -> Assignee {
        if text.hasPrefix("user:") { return .user(try ClientUserID(String(text.dropFirst(5)))) }
        return .device(try SerialNumber(text.hasPrefix("device:") ? String(text.dropFirst(7)) : text))
    }

    static func appName(_ console: Console, _ session: ConsoleSession, _ key: AssetKey) async throws -> String {
        guard let (app, _) = try await console.useCases.consoleLists.app(session.caller, key) else {
            throw StoreError.unknownApp(key)
        }
        return app.name ?? "App \(key.adamID)"
    }

    static func detail(
        _ console: Console,
        _ session: ConsoleSession,
        _ key: AssetKey,
        query: [String: String],
        serials: String = "",
        users: String = "",
        assignError: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let caller = session.caller
        guard let (app, breakdown) = try await console.useCases.consoleLists.app(caller, key) else {
            throw StoreError.unknownApp(key)
        }
        let canRevoke = caller.admin.can(.manageLicences) && app.revocable
        let list = ConsolePageQuery(query)
        let sort = list.sort(LicenceSortColumn.self)
        let page = try await console.useCases.catalogue.licencePage(
            caller,
            filter: LicenceFilter(asset: key),
            sort: sort,
            after: list.after,
            limit: ConsolePageQuery.perPage
        )
        let total = try await console.useCases.catalogue.licenceCount(caller, filter: LicenceFilter(asset: key))
        let locations = Dictionary(
            try await console.useCases.consoleLists.tokenStatuses(caller).map {
                ($0.token.id.description, $0.token.location.name)
            },
            uniquingKeysWith: { first, _ in first }
        )
        let rows = page.items.map { (licence: LicenceView) -> LicenceRow in
            let state = AssignmentState.Code(rawValue: licence.state)
            return LicenceRow(
                assignee: licence.serialNumber ?? "user \(licence.clientUserId ?? "?")",
                value: licence.serialNumber.map { "device:\($0)" } ?? "user:\(licence.clientUserId ?? "")",
                token: locations[licence.tokenId] ?? "(removed token)",
                state: licence.state,
                since: licence.changedAt.flatMap(ISO8601Timestamp.parse).map(ConsoleFormat.time) ?? "—",
                detail: licence.detail ?? "",
                revocable: canRevoke && state == .active,
                waiting: state?.isSettling == true
            )
        }
        let table = ConsoleTable(
            page: rows,
            next: page.next,
            query: list,
            columns: [("Assignee", .assignee), ("Granting token", nil), ("State", .state), ("Since", .since)],
            sort: sort,
            total: total,
            base: path(key)
        )
        let picks =
            caller.admin.can(.manageLicences) && app.deviceAssignable
            ? try await console.useCases.catalogue.devicesWithout(caller, key, limit: 100, scan: 1000).map {
                device in
                AppPage.Pick(
                    serial: device.serialNumber,
                    label: device.name.map { "\(device.serialNumber) (\($0))" } ?? device.serialNumber,
                    id: "pick-\(device.serialNumber)"
                )
            } : []
        let waiting = try await console.useCases.manageDesiredState.waiting(caller, key)
        let forecaster = console.useCases.appForecast
        let chart = ForecastChart(
            name: app.name ?? "App \(key.adamID)",
            forecast: try await forecaster(caller, key, waiting: waiting),
            points: try await forecaster.history(caller, key)
        )
        let model = AppPage(
            chrome: await console.chrome(
                session,
                title: app.name ?? "App \(key.adamID)",
                section: "Apps",
                notice: ConsoleFormat.notice(query["notice"])
            ),
            app: AppRow(app, breakdown: breakdown),
            canAssign: caller.admin.can(.manageLicences),
            headers: table.headers,
            licences: table.rows,
            pager: table.pager,
            noLicences: rows.isEmpty,
            picks: picks,
            serials: serials,
            users: users,
            assignError: assignError,
            assignAction: "/console/apps/\(key.adamID)/assign?pp=\(key.pricingParam.rawValue)",
            revokeAction: "/console/apps/\(key.adamID)/revoke?pp=\(key.pricingParam.rawValue)",
            refresh: rows.contains(where: \.waiting),
            forecast: chart
        )
        return console.renderer.page("app", model, status: status)
    }
}
