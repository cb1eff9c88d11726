import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VPPDomain
import VPPUseCases

/// `/v1/apps…`, `/v1/licenses`, `/v1/devices`, `/v1/users`, `/v1/reports/…`
enum LicenceRoutes {
    struct AssigneesBody: Codable, APISchema {
        let serialNumbers: [String]?
        let clientUserIds: [String]?
        let pricingParam: String?

        static let schemaName = "Assignees"
        static var schema: JSONSchema {
            .object(
                [:],
                optional: [
                    "serialNumbers": .array(.ref(SerialNumberSchema.self), minItems: 1, maxItems: 10000, unique: true),
                    "clientUserIds": .array(.ref(ClientUserIDSchema.self), minItems: 1, maxItems: 10000, unique: true),
                    "pricingParam": .oneOf(PricingParam.self),
                ]
            )
            .with(
                "anyOf",
                .list([
                    .object(["required": .list([.text("serialNumbers")])]),
                    .object(["required": .list([.text("clientUserIds")])]),
                ])
            )
            .described("At least one serial number or client user id, none listed twice.")
        }

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

    struct DevicesBody: Codable, APISchema {
        struct Item: Codable {
            let serialNumber: String
            let name: String?
            let installedAdamIds: [String]?
        }
        let devices: [Item]

        static let schemaName = "NewDevices"
        static var schema: JSONSchema {
            let item = JSONSchema.object(
                ["serialNumber": .ref(SerialNumberSchema.self)],
                optional: [
                    "name": .string(pattern: SchemaPattern.noControl, maxLength: 200),
                    "installedAdamIds": .array(.ref(AdamIDSchema.self), maxItems: 1000),
                ])
            return .object(["devices": .array(item, maxItems: 10000)])
        }

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

    struct UsersBody: Codable, APISchema {
        struct Item: Codable {
            let clientUserId: String
            let email: String?
        }
        let users: [Item]

        static let schemaName = "NewUsers"
        static var schema: JSONSchema {
            let item = JSONSchema.object(
                ["clientUserId": .ref(ClientUserIDSchema.self)],
                optional: ["email": .string(pattern: SchemaPattern.email, maxLength: 254)])
            return .object(["users": .array(item, maxItems: 10000)])
        }

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

    struct LicenceOperation: Encodable, APISchema {
        let accepted: Int
        let appleEvents: [String]
        /// Each licence of an assignment in its state when the answer was given (absent for revokes).
        var licences: [LicenceView]? = nil

        static var schema: JSONSchema {
            .object(
                ["accepted": .integer, "appleEvents": .array(.string)],
                optional: ["licences": .array(.ref(LicenceView.self))])
        }
    }

    static let adamIdParameter = APIOperation.Parameter.path("adamId", .ref(AdamIDSchema.self))

    static let operations: [APIOperation] = [
        APIOperation(
            method: .get, path: "/v1/apps", operationID: "listApps", summary: "The app repository with pooled counts",
            access: .apiKey(.read), answers: [.json(200, "Apps", .array(.ref(AppView.self)))]
        ) { call in json(try await Catalogue(services: call.services).apps(try call.caller())) },
        APIOperation(
            method: .post, path: "/v1/apps/{adamId}/licenses", operationID: "assignLicences",
            summary: "Assign licences to devices and/or users", access: .apiKey(.manageLicences),
            parameters: [adamIdParameter], requestBody: .ref(AssigneesBody.self),
            answers: [.json(202, "Reserved and sent to Apple", .ref(LicenceOperation.self))], errors: [404, 409, 422]
        ) { call in
            let body = try await call.body(AssigneesBody.self)
            let asset = try asset(call, body)
            let assignees = try body.assignees()
            let outcome = try await AssignLicences(services: call.services)(
                try call.caller(), asset: asset, to: assignees)
            return json(
                LicenceOperation(
                    accepted: assignees.count, appleEvents: outcome.events.map(\.eventID),
                    licences: outcome.licences.map(LicenceView.init)), status: .accepted)
        },
        APIOperation(
            method: .delete, path: "/v1/apps/{adamId}/licenses", operationID: "revokeLicences",
            summary: "Revoke licences", access: .apiKey(.manageLicences), parameters: [adamIdParameter],
            requestBody: .ref(AssigneesBody.self),
            answers: [.json(202, "Sent to Apple", .ref(LicenceOperation.self))], errors: [404, 422]
        ) { call in
            let body = try await call.body(AssigneesBody.self)
            let asset = try asset(call, body)
            let assignees = try body.assignees()
            let outcome = try await RevokeLicences(services: call.services)(
                try call.caller(), asset: asset, from: assignees)
            return json(
                LicenceOperation(accepted: assignees.count, appleEvents: outcome.events.map(\.eventID)),
                status: .accepted)
        },
        APIOperation(
            method: .get, path: "/v1/licenses", operationID: "listLicences",
            summary: "Licences with their state, in keyset pages (the next page is linked in the Link header, "
                + "rel=\"next\")",
            access: .apiKey(.read), parameters: LicenceListingParameters.declared,
            answers: [ListingAnswer.page("Licences", of: LicenceView.self)], errors: [400]
        ) { call in
            // Keyset pages (default and largest 1,000); the body stays the array /v1 has always answered, and
            // the next page is linked in a `Link: <…>; rel="next"` header (RFC 8288), so /v1 clients keep working.
            let page = try await Catalogue(services: call.services).licencePage(
                try call.caller(), filter: try LicenceListingParameters.filter(call.query),
                after: try call.query.single("after", allowed: ["a cursor from a Link header"]),
                limit: try ListingAnswer.limit(call.query))
            return ListingAnswer.response(page, call)
        },
        DeviceRoutes.list, DeviceRoutes.audit,
        APIOperation(
            method: .post, path: "/v1/devices", operationID: "addDevices", summary: "Add or update devices",
            access: .apiKey(.manageLicences), requestBody: .ref(DevicesBody.self),
            answers: [.json(201, "Added", .array(.ref(DeviceView.self)))], errors: [422]
        ) { call in
            let caller = try call.caller()
            let devices = try await call.body(DevicesBody.self).validated(tenantID: caller.tenantID)
            try await ManageInventory(services: call.services).addDevices(caller, devices)
            return json(devices.map(DeviceView.init), status: .created)
        },
        APIOperation(
            method: .get, path: "/v1/users", operationID: "listUsers", summary: "Managed users",
            access: .apiKey(.read), answers: [.json(200, "Users", .array(.ref(UserView.self)))]
        ) { call in
            json(try await ManageInventory(services: call.services).users(try call.caller()).map(UserView.init))
        },
        APIOperation(
            method: .post, path: "/v1/users", operationID: "addUsers",
            summary: "Register users with Apple and record them",
            access: .apiKey(.manageLicences), requestBody: .ref(UsersBody.self),
            answers: [.json(201, "Added", .array(.ref(UserView.self)))], errors: [422]
        ) { call in
            let caller = try call.caller()
            let users = try await call.body(UsersBody.self).validated(tenantID: caller.tenantID)
            try await ManageInventory(services: call.services).addUsers(caller, users)
            return json(users.map(UserView.init), status: .created)
        },
        APIOperation(
            method: .get, path: "/v1/reports/licenses", operationID: "licenceReport",
            summary: "Licences per app and per token (format=csv for CSV)", access: .apiKey(.read),
            parameters: [.query("format", .oneOf(ReportFormat.self))],
            answers: [
                APIOperation.Answer(
                    status: 200, description: "Report",
                    bodies: [
                        ("application/json", .array(.ref(ReportRowView.self))), ("text/csv", .string),
                    ])
            ],
            errors: [400]
        ) { call in
            let format = try call.query.value("format", as: ReportFormat.self) ?? .json
            let rows = try await Reports(services: call.services).licences(try call.caller())
            switch format {
            case .csv:
                return Response(
                    status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: Reports.csv(rows))))
            case .json:
                return json(rows.map(ReportRowView.init))
            }
        },
        APIOperation(
            method: .get, path: "/v1/reports/drift", operationID: "driftReport",
            summary: "Drift between Apple, vpp and the device inventory, with fixes", access: .apiKey(.read),
            answers: [.json(200, "Findings", .array(.ref(DriftView.self)))]
        ) { call in
            json(try await Reports(services: call.services).drift(try call.caller()).map(DriftView.init))
        },
    ]

    static func asset(_ call: APIOperation.Call, _ body: AssigneesBody) throws -> AssetKey {
        let adamID = try call.path("adamId")
        try EdgeValidation.adamID(adamID, field: "adamId")
        return AssetKey(adamID: adamID, pricingParam: try EdgeValidation.pricingParam(body.pricingParam))
    }
}
