import Foundation
import Hummingbird
import NIOCore
import VPPDomain
import VPPUseCases

/// `/v1/apps…`, `/v1/licenses`, `/v1/devices`, `/v1/users`, `/v1/reports/…`
enum LicenceRoutes {
    struct AssigneesBody: Decodable {
        let serialNumbers: [String]?
        let clientUserIds: [String]?
        let pricingParam: String?

        func assignees() throws -> [Assignee] {
            try (serialNumbers ?? []).map { .device(try SerialNumber($0)) } + (clientUserIds ?? []).map { .user(try ClientUserID($0)) }
        }
    }

    struct DevicesBody: Decodable {
        struct Item: Decodable { let serialNumber: String; let name: String?; let installedAdamIds: [String]? }
        let devices: [Item]
    }

    struct UsersBody: Decodable {
        struct Item: Decodable { let clientUserId: String; let email: String? }
        let users: [Item]
    }

    struct LicenceOperation: Encodable {
        let accepted: Int
        let appleEvents: [String]
    }

    static func add(to group: RouterGroup<VPPRequestContext>, services: VPPServices) {
        group.get("apps") { _, context in json(try await Catalogue(services: services).apps(try context.requireCaller())) }
        group.post("apps/{adamId}/licenses") { request, context in
            let body = try await request.decodeJSON(AssigneesBody.self, context: context)
            let assignees = try body.assignees()
            let outcome = try await AssignLicences(services: services)(try context.requireCaller(), asset: try asset(context, body), to: assignees)
            return json(LicenceOperation(accepted: assignees.count, appleEvents: outcome.events.map(\.eventID)), status: .accepted)
        }
        group.delete("apps/{adamId}/licenses") { request, context in
            let body = try await request.decodeJSON(AssigneesBody.self, context: context)
            let assignees = try body.assignees()
            let events = try await RevokeLicences(services: services)(try context.requireCaller(), asset: try asset(context, body), from: assignees)
            return json(LicenceOperation(accepted: assignees.count, appleEvents: events.map(\.eventID)), status: .accepted)
        }
        group.get("licenses") { _, context in json(try await Catalogue(services: services).licences(try context.requireCaller())) }
        group.get("devices") { _, context in
            json(try await ManageInventory(services: services).devices(try context.requireCaller()).map(DeviceView.init))
        }
        group.post("devices") { request, context in
            let caller = try context.requireCaller()
            let body = try await request.decodeJSON(DevicesBody.self, context: context)
            let devices = try body.devices.map {
                Device(tenantID: caller.tenantID, serialNumber: try SerialNumber($0.serialNumber), name: $0.name, installedAdamIDs: Set($0.installedAdamIds ?? []))
            }
            try await ManageInventory(services: services).addDevices(caller, devices)
            return json(devices.map(DeviceView.init), status: .created)
        }
        group.get("users") { _, context in json(try await ManageInventory(services: services).users(try context.requireCaller()).map(UserView.init)) }
        group.post("users") { request, context in
            let caller = try context.requireCaller()
            let body = try await request.decodeJSON(UsersBody.self, context: context)
            let users = try body.users.map { try ManagedUser(tenantID: caller.tenantID, clientUserID: try ClientUserID($0.clientUserId), email: $0.email) }
            try await ManageInventory(services: services).addUsers(caller, users)
            return json(users.map(UserView.init), status: .created)
        }
        group.get("reports/licenses") { request, context in
            let rows = try await Reports(services: services).licences(try context.requireCaller())
            if request.uri.queryParameters["format"] == "csv" {
                return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: Reports.csv(rows))))
            }
            return json(rows)
        }
        group.get("reports/drift") { _, context in json(try await Reports(services: services).drift(try context.requireCaller())) }
    }

    static func asset(_ context: VPPRequestContext, _ body: AssigneesBody) throws -> AssetKey {
        AssetKey(adamID: try context.parameters.require("adamId"), pricingParam: PricingParam(rawValue: body.pricingParam ?? "STDQ") ?? .standard)
    }
}
