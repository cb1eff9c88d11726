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

    init(_ view: MDMConnectionView) {
        kind = view.kind
        url = view.url
        state = view.disabledReason.map { "Stopped: \($0)" } ?? "Connected"
        healthy = view.disabledReason == nil
        commands = view.commands.isEmpty ? "none" : view.commands.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
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

/// `/console/devices`, `/console/users`
enum InventoryPages {
    static func add<Context: RemoteAddressRequestContext>(to group: RouterGroup<Context>, _ console: Console) {
        group.get("devices") { request, _ in
            await console.page(request) { session in try await devices(console, session, query: queryOf(request)) }
        }
        group.post("devices") { request, context in
            await console.action(request, context) { session, form in
                let text = form["serials"] ?? ""
                do {
                    let serials = text.split(whereSeparator: { $0.isNewline || ", ;\t".contains($0) }).map(String.init)
                    guard !serials.isEmpty else { throw UseCaseError.noAssignees }
                    let devices = try serials.map { Device(tenantID: session.caller.tenantID, serialNumber: try SerialNumber($0)) }
                    try await ManageInventory(services: console.services).addDevices(session.caller, devices)
                } catch {
                    guard let message = console.formMessage(error) else { throw error }
                    return try await devices(console, session, query: [:], serials: text, addError: message, status: .unprocessableContent)
                }
                return Console.redirect("/console/devices?notice=devices-added")
            }
        }
        group.get("users") { request, _ in
            await console.page(request) { session in
                let query = queryOf(request)
                let search = (query["q"] ?? "").trimmingCharacters(in: .whitespaces)
                let held = try await licencesHeld(console, session)
                let rows = try await ManageInventory(services: console.services).users(session.caller)
                    .filter { search.isEmpty || $0.clientUserID.value.localizedCaseInsensitiveContains(search)
                        || ($0.email ?? "").localizedCaseInsensitiveContains(search) }
                    .map { user in
                        let apps = held["user:\(user.clientUserID.value)"] ?? []
                        return UserRow(id: user.clientUserID.value, email: user.email ?? "", status: user.status.rawValue,
                                       licences: apps.isEmpty ? "none" : apps.joined(separator: ", "), licenceCount: apps.count)
                    }
                let table = ConsoleTable(rows, columns: [
                    .init(key: "id", label: "User ID") { textOrder($0.id, $1.id) },
                    .init(key: "email", label: "E-mail") { textOrder($0.email, $1.email) },
                    .init(key: "status", label: "Status") { $0.status < $1.status },
                    .init(key: "licences", label: "Licences held") { $0.licenceCount < $1.licenceCount },
                ], defaultKey: "id", query: query, base: "/console/users?q=\(urlEncode(search))")
                let model = UsersPage(chrome: await console.chrome(session, title: "Users", section: "Users"), search: search, searching: !search.isEmpty,
                                      headers: table.headers, rows: table.rows, pager: table.pager, empty: rows.isEmpty)
                return console.renderer.page("users", model)
            }
        }
    }

    /// App names each assignee holds a licence for, keyed `device:SERIAL` / `user:ID`.
    static func licencesHeld(_ console: Console, _ session: ConsoleSession) async throws -> [String: [String]] {
        let names = Dictionary(try await Catalogue(services: console.services).apps(session.caller).map { ($0.adamId, $0.name ?? $0.adamId) },
                               uniquingKeysWith: { first, _ in first })
        var held: [String: [String]] = [:]
        for licence in try await Catalogue(services: console.services).licences(session.caller)
        where ["reserved", "pending", "active", "revoking"].contains(licence.state) {
            let key = licence.serialNumber.map { "device:\($0)" } ?? "user:\(licence.clientUserId ?? "")"
            held[key, default: []].append("\(names[licence.adamId] ?? licence.adamId) (\(licence.state))")
        }
        return held
    }

    static func devices(_ console: Console, _ session: ConsoleSession, query: [String: String], serials: String = "",
                        addError: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let search = (query["q"] ?? "").trimmingCharacters(in: .whitespaces)
        let held = try await licencesHeld(console, session)
        let rows = try await ManageInventory(services: console.services).devices(session.caller)
            .filter { search.isEmpty || $0.serialNumber.value.localizedCaseInsensitiveContains(search)
                || ($0.name ?? "").localizedCaseInsensitiveContains(search) }
            .map { device in
                let apps = held["device:\(device.serialNumber.value)"] ?? []
                return DeviceRow(serial: device.serialNumber.value, name: device.name ?? "",
                                 enrollment: device.isRetired ? "retired" : device.enrollment.state.rawValue,
                                 licences: apps.isEmpty ? "none" : apps.joined(separator: ", "), licenceCount: apps.count)
            }
        let table = ConsoleTable(rows, columns: [
            .init(key: "serial", label: "Serial number") { textOrder($0.serial, $1.serial) },
            .init(key: "name", label: "Name") { textOrder($0.name, $1.name) },
            .init(key: "enrollment", label: "Enrollment") { $0.enrollment < $1.enrollment },
            .init(key: "licences", label: "Licences held") { $0.licenceCount < $1.licenceCount },
        ], defaultKey: "serial", query: query, base: "/console/devices?q=\(urlEncode(search))")
        // Not every tenant connects an MDM server: no connection shows nothing.
        let mdm = (try? await ConfigureMDM(services: console.services).show(session.caller)).map(MDMCard.init)
        let model = DevicesPage(
            chrome: await console.chrome(session, title: "Devices", section: "Devices", notice: ConsoleFormat.notice(query["notice"])),
            mdm: mdm,
            search: search, searching: !search.isEmpty, headers: table.headers, rows: table.rows, pager: table.pager, empty: rows.isEmpty,
            canAdd: session.caller.admin.can(.manageLicences), serials: serials, addError: addError)
        return console.renderer.page("devices", model, status: status)
    }
}

/// Percent-encodes a query value.
func urlEncode(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
}
