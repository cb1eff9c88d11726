import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VPPDomain
import VPPUseCases

/// `/v1/apps…` (the pooled repository, assigning and revoking) and `/v1/licenses`.
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
            try EdgeValidation.distinct(serials.map(SerialNumber.storedForm), field: "serialNumbers")
            try EdgeValidation.distinct(users, field: "clientUserIds")
            return try serials.map { .device(try SerialNumber($0)) } + users.map { .user(try ClientUserID($0)) }
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
                optional: ["licences": .array(.ref(LicenceView.self))]
            )
        }
    }

    static let adamIdParameter = APIOperation.Parameter.path("adamId", .ref(AdamIDSchema.self))

    static let operations: [APIOperation] = [
        APIOperation(
            method: .get,
            path: "/v1/apps",
            operationID: "listApps",
            summary: "The app repository with pooled counts",
            access: .apiKey(.read),
            answers: [.json(200, "Apps", .array(.ref(AppView.self)))]
        ) { call in json(try await call.useCases.catalogue.apps(try call.caller())) },
        APIOperation(
            method: .post,
            path: "/v1/apps/{adamId}/licenses",
            operationID: "assignLicences",
            summary: "Assign licences to devices and/or users",
            access: .apiKey(.manageLicences),
            parameters: [adamIdParameter],
            requestBody: .ref(AssigneesBody.self),
            answers: [.json(202, "Reserved and sent to Apple", .ref(LicenceOperation.self))],
            errors: [404, 409, 422]
        ) { call in
            let body = try await call.body(AssigneesBody.self)
            let asset = try asset(call, body)
            let assignees = try body.assignees()
            let outcome = try await call.useCases.assignLicences(
                try call.caller(),
                asset: asset,
                to: assignees
            )
            return json(
                LicenceOperation(
                    accepted: assignees.count,
                    appleEvents: outcome.events.map(\.eventID),
                    licences: outcome.licences.map(LicenceView.init)
                ),
                status: .accepted
            )
        },
        APIOperation(
            method: .delete,
            path: "/v1/apps/{adamId}/licenses",
            operationID: "revokeLicences",
            summary: "Revoke licences",
            access: .apiKey(.manageLicences),
            parameters: [adamIdParameter],
            requestBody: .ref(AssigneesBody.self),
            answers: [.json(202, "Sent to Apple", .ref(LicenceOperation.self))],
            errors: [404, 422]
        ) { call in
            let body = try await call.body(AssigneesBody.self)
            let asset = try asset(call, body)
            let assignees = try body.assignees()
            let outcome = try await call.useCases.revokeLicences(
                try call.caller(),
                asset: asset,
                from: assignees
            )
            return json(
                LicenceOperation(accepted: assignees.count, appleEvents: outcome.events.map(\.eventID)),
                status: .accepted
            )
        },
        APIOperation(
            method: .get,
            path: "/v1/licenses",
            operationID: "listLicences",
            summary: "Licences with their state (sort=assignee, app, state, since, '-' for descending), in keyset "
                + "pages (the next page is linked in the Link header, "
                + "rel=\"next\")",
            access: .apiKey(.read),
            parameters: LicenceListingParameters.declared,
            answers: [ListingAnswer.page("Licences", of: LicenceView.self)],
            errors: [400]
        ) { call in
            // Keyset pages (default and largest 1,000); the body stays the array /v1 has always answered, and
            // the next page is linked in a `Link: <…>; rel="next"` header (RFC 8288), so /v1 clients keep working.
            let page = try await call.useCases.catalogue.licencePage(
                try call.caller(),
                filter: try LicenceListingParameters.filter(call.query),
                sort: try ListingAnswer.sort(call.query),
                after: try call.query.single("after", allowed: ["a cursor from a Link header"]),
                limit: try ListingAnswer.limit(call.query)
            )
            return ListingAnswer.response(page, call)
        },
    ]

    static func asset(_ call: APIOperation.Call, _ body: AssigneesBody) throws -> AssetKey {
        let adamID = try call.path("adamId")
        try EdgeValidation.adamID(adamID, field: "adamId")
        return AssetKey(adamID: adamID, pricingParam: try EdgeValidation.pricingParam(body.pricingParam))
    }
}
