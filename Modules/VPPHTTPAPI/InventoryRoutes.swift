import Foundation
import Hummingbird
import VPPDomain
import VPPUseCases

/// `/v1/devices` and `/v1/users`: the inventory of devices (by serial number) and managed users.
enum InventoryRoutes {
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
                ]
            )
            return .object(["devices": .array(item, maxItems: 10000)])
        }

        func validated(tenantID: TenantID) throws -> [Device] {
            try EdgeValidation.distinct(
                devices.map { SerialNumber.storedForm($0.serialNumber) },
                field: "devices[].serialNumber"
            )
            return try devices.map { item in
                try EdgeValidation.text(item.serialNumber, field: "devices[].serialNumber", limit: 64)
                if let name = item.name { try EdgeValidation.text(name, field: "devices[].name", limit: 200) }
                let installed = item.installedAdamIds ?? []
                guard installed.count <= 1000 else {
                    throw InvalidInput(
                        code: .tooManyItems,
                        field: "devices[].installedAdamIds",
                        detail: "at most 1000 per device"
                    )
                }
                for adamID in installed { try EdgeValidation.adamID(adamID, field: "devices[].installedAdamIds") }
                return Device(
                    tenantID: tenantID,
                    serialNumber: try SerialNumber(item.serialNumber),
                    name: item.name,
                    installedAdamIDs: Set(installed)
                )
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
                optional: ["email": .string(pattern: SchemaPattern.email, maxLength: 254)]
            )
            return .object(["users": .array(item, maxItems: 10000)])
        }

        func validated(tenantID: TenantID) throws -> [ManagedUser] {
            try EdgeValidation.distinct(users.map(\.clientUserId), field: "users[].clientUserId")
            return try users.map { item in
                try EdgeValidation.text(item.clientUserId, field: "users[].clientUserId", limit: 256)
                if let email = item.email { try EdgeValidation.text(email, field: "users[].email", limit: 254) }
                return try ManagedUser(
                    tenantID: tenantID,
                    clientUserID: try ClientUserID(item.clientUserId),
                    email: item.email
                )
            }
        }
    }

    static let list = APIOperation(
        method: .get,
        path: "/v1/devices",
        operationID: "listDevices",
        summary: "Devices by serial number (or sort=name, enrollment, '-' for descending), in keyset pages (the next "
            + "page is linked in the Link header, rel=\"next\")",
        access: .apiKey(.read),
        parameters: ListingAnswer.pageParameters + [
            ListingAnswer.sortParameter(DeviceSortColumn.self),
            .query("serialPrefix", .string(pattern: "^[A-Za-z0-9]{1,20}$"), "Only serials starting with this"),
            .query("enrolled", .boolean, "true: only enrolled devices; false: only the others"),
            .query("includeRetired", .boolean, "false leaves retired devices out (default true, as /v1 always did)"),
        ],
        answers: [ListingAnswer.page("Devices", of: DeviceView.self)],
        errors: [400]
    ) { call in
        let query = call.query
        var filter = DeviceFilter(
            enrolled: try query.bool("enrolled"),
            includeRetired: try query.bool("includeRetired") ?? true
        )
        if let prefix = try query.single("serialPrefix", allowed: ["1 to 20 letters and digits"]) {
            guard (1...20).contains(prefix.count), prefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
            else {
                throw BadQueryParameter(name: "serialPrefix", value: prefix, allowed: ["1 to 20 letters and digits"])
            }
            filter.serialPrefix = prefix
        }
        let page = try await call.useCases.catalogue.devicePage(
            try call.caller(),
            filter: filter,
            sort: try ListingAnswer.sort(query),
            after: try ListingAnswer.after(query),
            limit: try ListingAnswer.limit(query)
        )
        return ListingAnswer.response(page, call)
    }

    static let operations: [APIOperation] = [
        list,
        APIOperation(
            method: .post,
            path: "/v1/devices",
            operationID: "addDevices",
            summary: "Add or update devices",
            access: .apiKey(.manageLicences),
            requestBody: .ref(DevicesBody.self),
            answers: [.json(201, "Added", .array(.ref(DeviceView.self)))],
            errors: [422]
        ) { call in
            let caller = try call.caller()
            let devices = try await call.body(DevicesBody.self).validated(tenantID: caller.tenantID)
            try await call.useCases.manageInventory.addDevices(caller, devices)
            return json(devices.map(DeviceView.init), status: .created)
        },
        APIOperation(
            method: .get,
            path: "/v1/users",
            operationID: "listUsers",
            summary: "Managed users",
            access: .apiKey(.read),
            answers: [.json(200, "Users", .array(.ref(UserView.self)))]
        ) { call in
            json(try await call.useCases.manageInventory.users(try call.caller()).map(UserView.init))
        },
        APIOperation(
            method: .post,
            path: "/v1/users",
            operationID: "addUsers",
            summary: "Register users with Apple and record them",
            access: .apiKey(.manageLicences),
            requestBody: .ref(UsersBody.self),
            answers: [.json(201, "Added", .array(.ref(UserView.self)))],
            errors: [422]
        ) { call in
            let caller = try call.caller()
            let users = try await call.body(UsersBody.self).validated(tenantID: caller.tenantID)
            try await call.useCases.manageInventory.addUsers(caller, users)
            return json(users.map(UserView.init), status: .created)
        },
        APIOperation(
            method: .put,
            path: "/v1/users/{clientUserId}/enrollment",
            operationID: "setUserEnrollment",
            summary: "Name the MDM enrollment a user's declarations go to (a User Enrollment, or a Mac's user "
                + "channel): a user licence delivered by declaration (License.Assignment User) joins the app's set "
                + "with it; null unlinks. The MDM webhook does not say which VPP user an enrollment is.",
            access: .apiKey(.manageLicences),
            parameters: [.path("clientUserId", .ref(ClientUserIDSchema.self))],
            requestBody: .ref(UserEnrollmentBody.self),
            answers: [.json(200, "Linked", .ref(UserEnrollmentBody.self))],
            errors: [400, 403, 422]
        ) { call in
            let body = try await call.body(UserEnrollmentBody.self)
            let user = try ClientUserID(try call.path("clientUserId"))
            // The body's clientUserId is answered, not needed: when sent, it must be a valid id naming the path's
            // user (a request the contract refuses is never carried out).
            if let named = body.clientUserId, try ClientUserID(named) != user {
                throw InvalidInput(
                    code: .outOfRange,
                    field: "clientUserId",
                    detail: "the body names \(named), the path \(user.value): leave it out or repeat the path's"
                )
            }
            var enrollment: EnrollmentID?
            if let text = body.enrollmentId {
                do { enrollment = try EnrollmentID(text) } catch {
                    throw InvalidInput(code: .outOfRange, field: "enrollmentId", detail: "\(error)")
                }
            }
            try await call.useCases.linkUserEnrollment(try call.caller(), user, enrollmentID: enrollment)
            return json(UserEnrollmentBody(clientUserId: user.value, enrollmentId: enrollment?.value))
        },
    ]

    /// A user's MDM enrollment, as the API takes and answers it.
    struct UserEnrollmentBody: Codable, APISchema {
        /// Answered only (the path names the user).
        var clientUserId: String?
        let enrollmentId: String?

        static let schemaName = "UserEnrollment"
        static var schema: JSONSchema {
            .object(
                [:],
                optional: [
                    "clientUserId": .ref(ClientUserIDSchema.self),
                    "enrollmentId": .string(pattern: "^[A-Za-z0-9_:-]{1,128}$").described(
                        "The enrollment id the MDM knows the user by; absent "
                            + "unlinks"
                    ),
                ]
            )
        }
    }
}
