import Foundation
import HTTPTypes
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

        /// Shapes, limits and duplicates are checked here, so nothing malformed reaches a use case.
        func assignees() throws -> [Assignee] {
            let serials = serialNumbers ?? []
            let users = clientUserIds ?? []
            for serial in serials { try EdgeValidation.text(serial, field: "serialNumbers", limit: 64) }
            for user in users { try EdgeValidation.text(user, field: "clientUserIds", limit: 256) }
            try EdgeValidation.distinct(serials, field: "serialNumbers", caseInsensitive: true)
            try EdgeValidation.distinct(users, field: "clientUserIds")
            return try serials.map { .device(try SerialNumber($0)) } + users.map { .user(try ClientUserID($0)) }
        }
    }

    struct DevicesBody: Decodable {
        struct Item: Decodable {
            let serialNumber: String
            let name: String?
            let installedAdamIds: [String]?
        }
        let devices: [Item]

        func validated(tenantID: TenantID) throws -> [Device] {
            try EdgeValidation.distinct(
                devices.map(\.serialNumber), field: "devices[].serialNumber", caseInsensitive: true)
            return try devices.map { item in
                try EdgeValidation.text(item.serialNumber, field: "devices[].serialNumber", limit: 64)
                if let name = item.name { try EdgeValidation.text(name, field: "devices[].name", limit: 200) }
                let installed = item.installedAdamIds ?? []
                guard installed.count <= 1000 else {
                    throw InvalidInput(
                        code: .tooManyItems, field: "devices[].installedAdamIds", detail: "at most 1000 per device")
                }
                for adamID in installed { try EdgeValidation.adamID(adamID, field: "devices[].installedAdamIds") }
                return Device(
                    tenantID: tenantID, serialNumber: try SerialNumber(item.serialNumber), name: item.name,
                    installedAdamIDs: Set(installed))
            }
        }
    }

    struct UsersBody: Decodable {
        struct Item: Decodable {
            let clientUserId: String
            let email: String?
        }
        let users: [Item]

        func validated(tenantID: TenantID) throws -> [ManagedUser] {
            try EdgeValidation.distinct(users.map(\.clientUserId), field: "users[].clientUserId")
            return try users.map { item in
                try EdgeValidation.text(item.clientUserId, field: "users[].clientUserId", limit: 256)
                if let email = item.email { try EdgeValidation.text(email, field: "users[].email", limit: 254) }
                return try ManagedUser(
                    tenantID: tenantID, clientUserID: try ClientUserID(item.clientUserId), email: item.email)
            }
        }
    }

    struct LicenceOperation: Encodable {
        let accepted: Int
        let appleEvents: [String]
        /// Each licence of an assignment in its state when the answer was given (absent for revokes).
        var licences: [LicenceView]? = nil
    }

    static func add(to group: RouterGroup<VPPRequestContext>, services: VPPServices) {
        group.get("apps") { request, context in
            _ = try QueryParameters(request, declared: [])
            return json(try await Catalogue(services: services).apps(try context.requireCaller()))
        }
        group.post("apps/{adamId}/licenses") { request, context in
            _ = try QueryParameters(request, declared: [])
            let body = try await request.decodeJSON(AssigneesBody.self, context: context)
            let asset = try asset(context, body)
            let assignees = try body.assignees()
            let outcome = try await AssignLicences(services: services)(
                try context.requireCaller(), asset: asset, to: assignees)
            return json(
                LicenceOperation(
                    accepted: assignees.count, appleEvents: outcome.events.map(\.eventID),
                    licences: outcome.licences.map(LicenceView.init)), status: .accepted)
        }
        group.delete("apps/{adamId}/licenses") { request, context in
            _ = try QueryParameters(request, declared: [])
            let body = try await request.decodeJSON(AssigneesBody.self, context: context)
            let asset = try asset(context, body)
            let assignees = try body.assignees()
            let outcome = try await RevokeLicences(services: services)(
                try context.requireCaller(), asset: asset, from: assignees)
            return json(
                LicenceOperation(accepted: assignees.count, appleEvents: outcome.events.map(\.eventID)),
                status: .accepted)
        }
        group.get("licenses") { request, context in
            // Keyset pages (default and largest 1,000); the body stays the array /v1 has always answered, and
            // the next page is linked in a `Link: <…>; rel="next"` header (RFC 8288), so /v1 clients keep working.
            let query = try QueryParameters(
                request,
                declared: [
                    "limit", "after", "adamId", "pricingParam", "tokenId", "serialNumber", "clientUserId", "state",
                ])
            let filter = try LicenceListingParameters.filter(query)
            let limit = try LicenceListingParameters.limit(query)
            let page = try await Catalogue(services: services).licencePage(
                try context.requireCaller(), filter: filter,
                after: try query.single("after", allowed: ["a cursor from a Link header"]),
                limit: limit)
            var response = json(page.items)
            if let next = page.next {
                response.headers[HTTPField.Name("Link")!] =
                    "<\(LicenceListingParameters.nextURL(request, cursor: next))>; rel=\"next\""
            }
            return response
        }
        group.get("devices") { request, context in
            _ = try QueryParameters(request, declared: [])
            return json(
                try await ManageInventory(services: services).devices(try context.requireCaller()).map(DeviceView.init))
        }
        group.post("devices") { request, context in
            _ = try QueryParameters(request, declared: [])
            let caller = try context.requireCaller()
            let body = try await request.decodeJSON(DevicesBody.self, context: context)
            let devices = try body.validated(tenantID: caller.tenantID)
            try await ManageInventory(services: services).addDevices(caller, devices)
            return json(devices.map(DeviceView.init), status: .created)
        }
        group.get("users") { request, context in
            _ = try QueryParameters(request, declared: [])
            return json(
                try await ManageInventory(services: services).users(try context.requireCaller()).map(UserView.init))
        }
        group.post("users") { request, context in
            _ = try QueryParameters(request, declared: [])
            let caller = try context.requireCaller()
            let body = try await request.decodeJSON(UsersBody.self, context: context)
            let users = try body.validated(tenantID: caller.tenantID)
            try await ManageInventory(services: services).addUsers(caller, users)
            return json(users.map(UserView.init), status: .created)
        }
        group.get("reports/licenses") { request, context in
            let format =
                try QueryParameters(request, declared: ["format"]).value("format", as: ReportFormat.self) ?? .json
            let rows = try await Reports(services: services).licences(try context.requireCaller())
            switch format {
            case .csv:
                return Response(
                    status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: Reports.csv(rows))))
            case .json:
                return json(rows.map(ReportRowView.init))
            }
        }
        group.get("reports/drift") { request, context in
            _ = try QueryParameters(request, declared: [])
            return json(try await Reports(services: services).drift(try context.requireCaller()).map(DriftView.init))
        }
    }

    /// A licence report row in the API's naming (`adamId`, like every other representation).
    struct ReportRowView: Encodable {
        let adamId, pricingParam, name, location, tokenStatus: String
        let total, assigned, available, retired: Int

        init(_ row: LicenceReportRow) {
            (adamId, pricingParam, name, location, tokenStatus) = (
                row.adamID, row.pricingParam, row.name, row.location, row.tokenStatus
            )
            (total, assigned, available, retired) = (row.total, row.assigned, row.available, row.retired)
        }
    }

    /// A drift finding in the API's naming.
    struct DriftView: Encodable {
        let kind, adamId, assignee, location, fix: String

        init(_ finding: DriftFinding) {
            (kind, adamId, assignee, location, fix) = (
                finding.kind.rawValue, finding.adamID, finding.assignee, finding.location, finding.fix
            )
        }
    }

    static func asset(_ context: VPPRequestContext, _ body: AssigneesBody) throws -> AssetKey {
        let adamID = try context.parameters.require("adamId")
        try EdgeValidation.adamID(adamID, field: "adamId")
        return AssetKey(adamID: adamID, pricingParam: try EdgeValidation.pricingParam(body.pricingParam))
    }
}
