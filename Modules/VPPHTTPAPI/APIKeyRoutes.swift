import Foundation
import Hummingbird
import VPPDomain
import VPPUseCases

/// `/v1/api-keys…`: list, create, revoke and rotate the tenant's API keys (the `mdm-admin` role).
/// A key itself appears once, in the answer that creates it; afterwards only its id, name and times.
enum APIKeyRoutes {
    struct CreateBody: Decodable {
        let name: String
        let role: String
        /// RFC 3339; absent: the key does not expire.
        let expiresAt: String?
    }

    /// An API key as JSON (never the key).
    struct KeyView: Encodable {
        let id: String
        let name: String
        let role: String
        let createdBy: String
        let createdAt: String
        let lastUsedAt: String?
        let expiresAt: String?
        let revokedAt: String?

        init(_ details: APIKeyDetails) {
            id = details.id.uuidString.lowercased()
            name = details.name
            role = details.role.rawValue
            createdBy = details.createdBy
            createdAt = rfc3339(details.createdAt)
            lastUsedAt = details.lastUsedAt.map(rfc3339)
            expiresAt = details.expiresAt.map(rfc3339)
            revokedAt = details.revokedAt.map(rfc3339)
        }
    }

    /// The answer that shows a new key, once.
    struct CreatedKey: Encodable {
        let key: String
        let apiKey: KeyView
    }

    static func add(to group: RouterGroup<VPPRequestContext>, services: VPPServices) {
        let keys = ManageAPIKeys(services: services)
        group.get("api-keys") { request, context in
            _ = try QueryParameters(request, declared: [])
            return json(try await keys.list(try context.requireCaller()).map(KeyView.init))
        }
        group.post("api-keys") { request, context in
            _ = try QueryParameters(request, declared: [])
            let body = try await request.decodeJSON(CreateBody.self, context: context)
            try EdgeValidation.text(body.name, field: "name", limit: 100)
            guard let role = Role(rawValue: body.role) else {
                throw InvalidInput(
                    code: .invalidAPIKeyRequest, field: "role", detail: "must be read-only, app-management or mdm-admin"
                )
            }
            var expiresAt: Date?
            if let text = body.expiresAt {
                guard let date = ISO8601DateFormatter().date(from: text) else {
                    throw InvalidInput(
                        code: .invalidAPIKeyRequest, field: "expiresAt",
                        detail: "must be an RFC 3339 time, e.g. 2027-01-31T00:00:00Z")
                }
                expiresAt = date
            }
            let (key, details) = try await keys.create(
                try context.requireCaller(), name: body.name, role: role, expiresAt: expiresAt)
            return json(CreatedKey(key: key, apiKey: KeyView(details)), status: .created)
        }
        group.delete("api-keys/{id}") { request, context in
            _ = try QueryParameters(request, declared: [])
            return json(KeyView(try await keys.revoke(try context.requireCaller(), id: try keyID(context))))
        }
        group.post("api-keys/{id}/rotate") { request, context in
            _ = try QueryParameters(request, declared: [])
            let (key, details) = try await keys.rotate(try context.requireCaller(), id: try keyID(context))
            return json(CreatedKey(key: key, apiKey: KeyView(details)), status: .created)
        }
    }

    static func keyID(_ context: VPPRequestContext) throws -> UUID {
        let text = try context.parameters.require("id")
        guard let id = UUID(uuidString: text) else { throw APIKeyError.unknownKey(text) }
        return id
    }
}

/// RFC 3339 in UTC, e.g. `2027-01-31T00:00:00Z`.
func rfc3339(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
