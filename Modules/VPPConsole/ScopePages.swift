import Foundation
import HTTPTypes
import Hummingbird
import VPPDomain
import VPPUseCases

/// One scope in the list.
struct ScopeRow: Sendable {
    let name: String
    let href: String
    let app: String
    let priority: Int
    let desired: Int
    let licensed: Int
    let waiting: Int
    let leaving: Int
}

/// One group in the list.
struct GroupRow: Sendable {
    let name: String
    let kind: String
    let members: String
}

/// The scope form's values (a new scope, an edit, or a refused submission shown again).
struct ScopeForm: Sendable {
    let name: String
    let adamID: String
    let groups: String
    let serials: String
    let priority: String
    let grace: String
    let uninstall: Bool
    let licenceOnly: Bool
    /// Deliver by declaration (the scope's `declaration` mode), and the declaration's terms.
    var declaration = false
    var optional = false
    var version = ""
    var updates = ""
    let isNew: Bool

    /// The choices of automatic updates, the form's current one selected.
    var updateChoices: [ConsoleChoice] {
        [ConsoleChoice(value: "", label: "The device's setting (not sent)", selected: updates.isEmpty)]
            + AutomaticAppUpdates.allCases.map {
                ConsoleChoice(value: $0.rawValue, label: $0.rawValue, selected: updates == $0.rawValue)
            }
    }

    static let blank = ScopeForm(
        name: "",
        adamID: "",
        groups: "",
        serials: "",
        priority: "0",
        grace: "86400",
        uninstall: true,
        licenceOnly: false,
        isNew: true
    )

    init(
        name: String,
        adamID: String,
        groups: String,
        serials: String,
        priority: String,
        grace: String,
        uninstall: Bool,
        licenceOnly: Bool,
        isNew: Bool
    ) {
        (self.name, self.adamID, self.groups, self.serials) = (name, adamID, groups, serials)
        (self.priority, self.grace, self.uninstall, self.licenceOnly, self.isNew) =
            (priority, grace, uninstall, licenceOnly, isNew)
    }

    init(_ scope: AppScope) {
        self.init(
            name: scope.name.value,
            adamID: scope.asset.adamID,
            groups: scope.groups.map(\.value).joined(separator: ", "),
            serials: scope.serialNumbers.map(\.value).joined(separator: "\n"),
            priority: "\(scope.priority)",
            grace: "\(scope.removalGraceSeconds)",
            uninstall: scope.uninstallOnRemoval,
            licenceOnly: scope.mode == .licenceOnly,
            isNew: false
        )
        declaration = scope.mode == .declaration
        optional = scope.declaration.install == .optional
        version = scope.declaration.version.map { "\($0)" } ?? ""
        updates = scope.declaration.automaticUpdates?.rawValue ?? ""
    }

    init(_ form: ConsoleForm, isNew: Bool) {
        self.init(
            name: form["name"] ?? "",
            adamID: form["adamId"] ?? "",
            groups: form["groups"] ?? "",
            serials: form["serials"] ?? "",
            priority: form["priority"] ?? "0",
            grace: form["grace"] ?? "86400",
            uninstall: form.flag("uninstall"),
            licenceOnly: form.flag("licenceOnly"),
            isNew: isNew
        )
        declaration = form.flag("declaration")
        optional = form.flag("optional")
        version = form["version"] ?? ""
        updates = form["updates"] ?? ""
    }

    /// The scope these values describe, or the reason they do not describe one.
    func scope() throws -> AppScope {
        func split(_ text: String) -> [String] {
            text.split(whereSeparator: { $0.isNewline || ", ;\t".contains($0) }).map(String.init)
        }
        guard let priority = Int(priority.trimmingCharacters(in: .whitespaces)) else {
            throw ConsolePageError(status: .unprocessableContent, message: "Priority must be a whole number.")
        }
        guard let grace = Int(grace.trimmingCharacters(in: .whitespaces)) else {
            throw ConsolePageError(status: .unprocessableContent, message: "Grace must be a number of seconds.")
        }
        let adamID = adamID.trimmingCharacters(in: .whitespaces)
        guard !adamID.isEmpty, adamID.count <= 32, adamID.allSatisfy(\.isNumber) else {
            throw ConsolePageError(status: .unprocessableContent, message: "The app's Adam ID is a number.")
        }
        let versionText = version.trimmingCharacters(in: .whitespaces)
        var pinned: Int?
        if !versionText.isEmpty {
            guard let number = Int(versionText) else {
                throw ConsolePageError(
                    status: .unprocessableContent,
                    message: "The version is an external version id (a whole number), or empty."
                )
            }
            pinned = number
        }
        var automatic: AutomaticAppUpdates?
        if !updates.isEmpty {
            guard let known = AutomaticAppUpdates(rawValue: updates) else {
                throw ConsolePageError(status: .unprocessableContent, message: "Unknown automatic-updates choice.")
            }
            automatic = known
        }
        let terms = try DeclarationTerms(
            install: optional ? .optional : .required,
            version: pinned,
            automaticUpdates: automatic
        )
        return try AppScope(
            name: try ScopeName(name.trimmingCharacters(in: .whitespaces)),
            asset: AssetKey(adamID: adamID),
            groups: try split(groups).map { try GroupName($0) },
            serialNumbers: try split(serials).map { try SerialNumber($0) },
            priority: priority,
            removalGraceSeconds: grace,
            uninstallOnRemoval: uninstall,
            mode: licenceOnly ? .licenceOnly : declaration ? .declaration : .install,
            declaration: terms
        )
    }
}

/// The scopes page: scopes, groups, and the form for a new scope.
struct ScopesPage: Sendable {
    let chrome: Chrome
    let scopes: [ScopeRow]
    let noScopes: Bool
    let groups: [GroupRow]
    let noGroups: Bool
    let canEdit: Bool
    let form: ScopeForm
    let formError: String?
    let preview: PlanView?
    let action = "/console/scopes"
}

/// A scope's page: where its members stand, the plan, the waitlist, and the edit form with a preview.
struct ScopePage: Sendable {
    struct Waiting: Sendable {
        let position: Int
        let member: String
        let since: String
    }
    let chrome: Chrome
    let scope: ScopeView
    let canEdit: Bool
    let form: ScopeForm
    let formError: String?
    /// The plan with the edited values (a preview: nothing stored).
    let preview: PlanView?
    let waiting: [Waiting]
    let noWaiting: Bool
    let action: String
    let deleteAction: String
}

/// `/console/scopes…`
enum ScopePages {
    static func add<Context: RemoteAddressRequestContext>(to group: RouterGroup<Context>, _ console: Console) {
        group.get("scopes") { request, _ in
            await console.page(request) { session in
                try await list(console, session, notice: ConsoleFormat.notice(queryOf(request)["notice"]))
            }
        }
        group.post("scopes") { request, context in
            await console.action(request, context) { session, form in
                try await save(console, session, form, isNew: true)
            }
        }
        group.get("scopes/{name}") { request, context in
            await console.page(request) { session in
                try await detail(
                    console,
                    session,
                    try name(context),
                    notice: ConsoleFormat.notice(queryOf(request)["notice"])
                )
            }
        }
        group.post("scopes/{name}") { request, context in
            await console.action(request, context) { session, form in
                try await save(console, session, form, isNew: false, existing: try name(context))
            }
        }
        group.post("scopes/{name}/delete") { request, context in
            await console.action(request, context) { session, _ in
                _ = try await console.useCases.manageDesiredState.deleteScope(
                    session.caller,
                    try name(context),
                    dryRun: false
                )
                return Console.redirect("/console/scopes?notice=scope-deleted")
            }
        }
    }

    static func name(_ context: some RequestContext) throws -> ScopeName {
        do { return try ScopeName(try context.parameters.require("name")) } catch {
            throw ConsolePageError(status: .notFound, message: "No such scope.")
        }
    }

    /// Preview (the plan, nothing stored) or save, as the button pressed says; a refusal is shown on the form.
    static func save(
        _ console: Console,
        _ session: ConsoleSession,
        _ form: ConsoleForm,
        isNew: Bool,
        existing: ScopeName? = nil
    ) async throws -> Response {
        let values = ScopeForm(form, isNew: isNew)
        let previewOnly = form["intent"] != "save"
        let manage = console.useCases.manageDesiredState
        do {
            let scope = try values.scope()
            if let existing, existing != scope.name {
                throw ConsolePageError(status: .unprocessableContent, message: "A scope's name cannot change.")
            }
            let change = try await manage.putScope(session.caller, scope, dryRun: previewOnly)
            if previewOnly {
                let plan = PlanView(change.plan)
                return isNew
                    ? try await list(console, session, form: values, preview: plan)
                    : try await detail(console, session, scope.name, form: values, preview: plan)
            }
            return Console.redirect("/console/scopes/\(scope.name.value)?notice=scope-saved")
        } catch {
            guard let message = console.formMessage(error) else { throw error }
            if isNew || existing == nil {
                return try await list(console, session, form: values, formError: message, status: .unprocessableContent)
            }
            return try await detail(
                console,
                session,
                existing!,
                form: values,
                formError: message,
                status: .unprocessableContent
            )
        }
    }

    static func list(
        _ console: Console,
        _ session: ConsoleSession,
        notice: String? = nil,
        form: ScopeForm = .blank,
        formError: String? = nil,
        preview: PlanView? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let manage = console.useCases.manageDesiredState
        let scopes = try await manage.scopes(session.caller).map { status in
            ScopeRow(
                name: status.scope.name.value,
                href: "/console/scopes/\(status.scope.name.value)",
                app: status.scope.asset.description,
                priority: status.scope.priority,
                desired: status.desired,
                licensed: status.licensed,
                waiting: status.waiting,
                leaving: status.pendingRemoval
            )
        }
        let groups = try await manage.groups(session.caller).map { record in
            GroupRow(
                name: record.group.name.value,
                kind: record.group.dynamic == nil ? "Written" : "Dynamic",
                members: record.group.dynamic == nil ? "\(record.memberCount)" : "enrolled devices"
            )
        }
        let model = ScopesPage(
            chrome: await console.chrome(session, title: "Scopes", section: "Scopes", notice: notice),
            scopes: scopes,
            noScopes: scopes.isEmpty,
            groups: groups,
            noGroups: groups.isEmpty,
            canEdit: session.caller.admin.can(.manageLicences),
            form: form,
            formError: formError,
            preview: preview
        )
        return console.renderer.page("scopes", model, status: status)
    }

    static func detail(
        _ console: Console,
        _ session: ConsoleSession,
        _ name: ScopeName,
        notice: String? = nil,
        form: ScopeForm? = nil,
        formError: String? = nil,
        preview: PlanView? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let manage = console.useCases.manageDesiredState
        let scopeStatus = try await manage.scope(session.caller, name)
        let waiting = try await manage.waitlist(session.caller, name, after: 0, limit: 100).map {
            ScopePage.Waiting(
                position: $0.position,
                member: ConsoleFormat.assignee($0.assignee),
                since: $0.since.map(ConsoleFormat.time) ?? "—"
            )
        }
        let model = ScopePage(
            chrome: await console.chrome(session, title: "Scope \(name.value)", section: "Scopes", notice: notice),
            scope: ScopeView(scopeStatus.scope, status: scopeStatus),
            canEdit: session.caller.admin.can(.manageLicences),
            form: form ?? ScopeForm(scopeStatus.scope),
            formError: formError,
            preview: preview,
            waiting: waiting,
            noWaiting: waiting.isEmpty,
            action: "/console/scopes/\(name.value)",
            deleteAction: "/console/scopes/\(name.value)/delete"
        )
        return console.renderer.page("scope", model, status: status)
    }
}
