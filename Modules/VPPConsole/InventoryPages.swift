import Foundation
import HTTPTypes
import Hummingbird
import VPPDomain
import VPPUseCases

/// One device of the inventory.
struct DeviceRow: Sendable {
    let serial: String
    let name: String
    let enrollment: String
    let licences: String
    let licenceCount: Int
}

/// One managed user.
struct UserRow: Sendable {
    let id: String
    let email: String
    let status: String
    let licences: String
    let licenceCount: Int
}

/// The tenant's MDM connection as the devices page shows it (no secret).
struct MDMCard: Sendable {
    let kind: String
    let url: String
    let state: String
    let healthy: Bool
    let commands: String
    /// Why device events are refused (no webhook HMAC key), when they are.
    let warning: String?

    init(_ view: MDMConnectionView) {
        warning = view.webhookWarning
        kind = view.kind
        url = view.url
        state = view.disabledReason.map { "Stopped: \($0)" } ?? "Connected"
        healthy = view.disabledReason == nil
        commands =
            view.commands.isEmpty
            ? "none" : view.commands.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
    }
}

/// The devices page: search, table, the MDM connection, and the form to add devices.
struct DevicesPage: Sendable {
    let chrome: Chrome
    let mdm: MDMCard?
    let search: String
    let searching: Bool
    let headers: [ConsoleTable<DeviceRow>.Header]
    let rows: [DeviceRow]
    let pager: ConsoleTable<DeviceRow>.Pager
    let empty: Bool
    let canAdd: Bool
    let serials: String
    let addError: String?
}

/// The users page: search and table.
struct UsersPage: Sendable {
    let chrome: Chrome
    let search: String
    let searching: Bool
    let headers: [ConsoleTable<UserRow>.Header]
    let rows: [UserRow]
    let pager: ConsoleTable<UserRow>.Pager
    let empty: Bool
}

/// `/console/devices`, `/console/devices/{serial}`, `/console/users`
enum InventoryPages {
    static func add<Context: RemoteAddressRequestContext>(to group: RouterGroup<Context>, _ console: Console) {
        group.get("devices") { request, _ in
            await console.page(request) { session in try await devices(console, session, query: queryOf(request)) }
        }
        group.get("devices/{serial}") { request, context in
            await console.page(request) { session in
                try await DevicePage.render(console, session, serial: try context.parameters.require("serial"))
            }
        }
        group.post("devices") { request, context in
            await console.action(request, context) { session, form in
                let text = form["serials"] ?? ""
                do {
                    let serials = text.split(whereSeparator: { $0.isNewline || ", ;\t".contains($0) }).map(String.init)
                    guard !serials.isEmpty else { throw UseCaseError.noAssignees }
                    let devices = try serials.map {
                        Device(tenantID: session.caller.tenantID, serialNumber: try SerialNumber($0))
                    }
                    try await console.useCases.manageInventory.addDevices(session.caller, devices)
                } catch {
                    guard let message = console.formMessage(error) else { throw error }
                    return try await devices(
                        console,
                        session,
                        query: [:],
                        serials: text,
                        addError: message,
                        status: .unprocessableContent
                    )
                }
                return Console.redirect("/console/devices?notice=devices-added")
            }
        }
        group.get("users") { request, _ in
            await console.page(request) { session in
                let list = ConsolePageQuery(queryOf(request))
                let page = try await console.useCases.catalogue.userPage(
                    session.caller,
                    search: list.search,
                    after: list.after,
                    limit: ConsolePageQuery.perPage
                )
                let held = try await console.useCases.catalogue.heldLicences(
                    session.caller,
                    try page.items.map { .user(try ClientUserID($0.clientUserId)) }
                )
                let rows = try page.items.map { user in
                    let licences = held[.user(try ClientUserID(user.clientUserId))] ?? []
                    return UserRow(
                        id: user.clientUserId,
                        email: user.email ?? "",
                        status: user.status,
                        licences: ConsoleFormat.held(licences),
                        licenceCount: licences.count
                    )
                }
                let table = ConsoleTable(
                    page: rows,
                    next: page.next,
                    query: list,
                    labels: ["User ID", "E-mail", "Status", "Licences held"],
                    sortedBy: "User ID",
                    base: "/console/users?q=\(urlEncode(list.search))"
                )
                let model = UsersPage(
                    chrome: await console.chrome(session, title: "Users", section: "Users"),
                    search: list.search,
                    searching: !list.search.isEmpty,
                    headers: table.headers,
                    rows: table.rows,
                    pager: table.pager,
                    empty: rows.isEmpty
                )
                return console.renderer.page("users", model)
            }
        }
    }

    static func devices(
        _ console: Console,
        _ session: ConsoleSession,
        query: [String: String],
        serials: String = "",
        addError: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let list = ConsolePageQuery(query)
        let search = list.search
        let filter = DeviceFilter(includeRetired: true, search: search)
        let sort = list.sort(DeviceSortColumn.self)
        let page = try await console.useCases.catalogue.devicePage(
            session.caller,
            filter: filter,
            sort: sort,
            after: list.after,
            limit: ConsolePageQuery.perPage
        )
        let total = try await console.useCases.catalogue.deviceCount(session.caller, filter: filter)
        let held = try await console.useCases.catalogue.heldLicences(
            session.caller,
            try page.items.map { .device(try SerialNumber($0.serialNumber)) }
        )
        let rows = try page.items.map { device in
            let licences = held[.device(try SerialNumber(device.serialNumber))] ?? []
            return DeviceRow(
                serial: device.serialNumber,
                name: device.name ?? "",
                enrollment: device.retired ? "retired" : device.enrollment,
                licences: ConsoleFormat.held(licences),
                licenceCount: licences.count
            )
        }
        let table = ConsoleTable(
            page: rows,
            next: page.next,
            query: list,
            columns: [
                ("Serial number", .serial), ("Name", .name), ("Enrollment", .enrollment), ("Licences held", nil),
            ],
            sort: sort,
            total: total,
            base: "/console/devices?q=\(urlEncode(search))"
        )
        // Not every tenant connects an MDM server: no connection shows nothing.
        let mdm = (try? await console.useCases.configureMDM.show(session.caller)).map(MDMCard.init)
        let model = DevicesPage(
            chrome: await console.chrome(
                session,
                title: "Devices",
                section: "Devices",
                notice: ConsoleFormat.notice(query["notice"])
            ),
            mdm: mdm,
            search: search,
            searching: !search.isEmpty,
            headers: table.headers,
            rows: table.rows,
            pager: table.pager,
            empty: rows.isEmpty,
            canAdd: session.caller.admin.can(.manageLicences),
            serials: serials,
            addError: addError
        )
        return console.renderer.page("devices", model, status: status)
    }
}

/// Percent-encodes a query value.
func urlEncode(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
}
