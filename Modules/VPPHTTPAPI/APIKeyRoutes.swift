import Foundation
import Hummingbird
import VPPDomain
import VPPUseCases

/// `/v1/api-keys…`: list, create, revoke and rotate the tenant's API keys (the `mdm-admin` role).
/// A key itself appears once, in the answer that creates it; afterwards only its id, name and times.
enum APIKeyRoutes {
    struct CreateBody: Codable, APISchema {
        let name: String
        let role: String
        /// RFC 3339; absent: the key does not expire.
        let expiresAt: String?

        static let schemaName = "NewAPIKey"
        static var schema: JSONSchema {
            .object(
                [
                    "name": .string(pattern: "^[^\\x00-\\x1F\\x7F-\\x9F]+$", minLength: 1, maxLength: 100),
                    "role": .oneOf(Role.self),
                ],
                optional: ["expiresAt": .dateTime]
            )
        }
    }

    /// An API key as JSON (never the key).
    /// The answer that shows a new key, once.
    struct CreatedKey: Encodable, APISchema {
        let key: String
        let apiKey: APIKeyView

        static let schemaName = "CreatedAPIKey"
        static var schema: JSONSchema {
            .object([
                "key": .string.described("The key itself, shown only in this answer"), "apiKey": .ref(APIKeyView.self),
            ])
        }
    }

    static let id = APIOperation.Parameter.path("id", .uuid)

    static let operations: [APIOperation] = [
        APIOperation(
            method: .get,
            path: "/v1/api-keys",
            operationID: "listAPIKeys",
            summary: "The tenant's API keys (never the keys themselves); needs mdm-admin",
            access: .apiKey(.manageTenant),
            answers: [.json(200, "Keys", .array(.ref(APIKeyView.self)))],
            errors: [403]
        ) { call in
            json(try await call.useCases.manageAPIKeys.list(try call.caller()).map(APIKeyView.init))
        },
        APIOperation(
            method: .post,
            path: "/v1/api-keys",
            operationID: "createAPIKey",
            summary: "Create an API key (shown once); needs mdm-admin",
            access: .apiKey(.manageTenant),
            requestBody: .ref(CreateBody.self),
            answers: [.json(201, "Created", .ref(CreatedKey.self))],
            errors: [403, 422],
            handler: create
        ),
        APIOperation(
            method: .delete,
            path: "/v1/api-keys/{id}",
            operationID: "revokeAPIKey",
            summary: "Revoke an API key; refused on every replica within seconds",
            access: .apiKey(.manageTenant),
            parameters: [id],
            answers: [.json(200, "Revoked", .ref(APIKeyView.self))],
            errors: [403, 404]
        ) { call in
            let revoked = try await call.useCases.manageAPIKeys.revoke(
                try call.caller(),
                id: try keyID(call)
            )
            call.keys.forget(tenant: revoked.tenantID)
            return json(APIKeyView(revoked))
        },
        APIOperation(
            method: .post,
            path: "/v1/api-keys/{id}/rotate",
            operationID: "rotateAPIKey",
            summary: "Replace an API key with a new one (same name, role and expiry); the old one is revoked",
            access: .apiKey(.manageTenant),
            parameters: [id],
            answers: [.json(201, "The new key", .ref(CreatedKey.self))],
            errors: [403, 404]
        ) { call in
            let (key, details) = try await call.useCases.manageAPIKeys.rotate(
                try call.caller(),
                id: try keyID(call)
            )
            call.keys.forget(tenant: details.tenantID)
            return json(CreatedKey(key: key, apiKey: APIKeyView(details)), status: .created)
        },
    ]

    static func create(_ call: APIOperation.Call) async throws -> Response {
        let body = try await call.body(CreateBody.self)
        try EdgeValidation.text(body.name, field: "name", limit: 100)
        guard let role = Role(rawValue: body.role) else {
            throw InvalidInput(
                code: .invalidAPIKeyRequest,
                field: "role",
                detail: "must be read-only, app-management or mdm-admin"
            )
        }
        var expiresAt: Date?
        if let text = body.expiresAt {
            guard let date = ISO8601DateFormatter().date(from: text) else {
                throw InvalidInput(
                    code: .invalidAPIKeyRequest,
                    field: "expiresAt",
                    detail: "must be an RFC 3339 time, e.g. 2027-01-31T00:00:00Z"
                )
            }
            expiresAt = date
        }
        let (key, details) = try await call.useCases.manageAPIKeys.create(
            try call.caller(),
            name: body.name,
            role: role,
            expiresAt: expiresAt
        )
        return json(CreatedKey(key: key, apiKey: APIKeyView(details)), status: .created)
    }

    static func keyID(_ call: APIOperation.Call) throws -> UUID {
        let text = try call.path("id")
        guard let id = UUID(uuidString: text) else { throw APIKeyError.unknownKey(text) }
        return id
    }
}
