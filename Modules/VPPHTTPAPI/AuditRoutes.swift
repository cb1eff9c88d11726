import Foundation
import Hummingbird
import VPPDomain
import VPPUseCases

/// `GET /v1/audit`: the tenant's audit log in keyset pages.
enum AuditRoutes {
    static let operations: [APIOperation] = [audit]

    static let audit = APIOperation(
        method: .get,
        path: "/v1/audit",
        operationID: "listAudit",
        summary: "The tenant's audit log, newest first, in keyset pages (the next page is linked in the Link header)",
        access: .apiKey(.read),
        parameters: ListingAnswer.pageParameters + [
            .query("since", .dateTime, "Records at or after this time (RFC 3339)"),
            .query("until", .dateTime, "Records before this time (RFC 3339)"),
            .query(
                "actor",
                .string(pattern: SchemaPattern.noControl, minLength: 1, maxLength: 200),
                "Exactly this actor, e.g. api-key:gitops"
            ),
            .query(
                "action",
                .string(pattern: SchemaPattern.noControl, minLength: 1, maxLength: 100),
                "Exactly this action, e.g. apikey.create"
            ),
        ],
        answers: [ListingAnswer.page("Audit records", of: AuditView.self)],
        errors: [400]
    ) { call in
        let query = call.query
        var filter = AuditFilter()
        filter.since = try time(query, "since")
        filter.until = try time(query, "until")
        filter.actor = try text(query, "actor", limit: 200)
        filter.action = try text(query, "action", limit: 100)
        let page = try await call.useCases.catalogue.auditPage(
            try call.caller(),
            filter: filter,
            after: try ListingAnswer.after(query),
            limit: try ListingAnswer.limit(query)
        )
        return ListingAnswer.response(page, call)
    }

    static func time(_ query: QueryParameters, _ name: String) throws -> Date? {
        let allowed = ["an RFC 3339 time, e.g. 2027-01-31T00:00:00Z"]
        guard let text = try query.single(name, allowed: allowed) else { return nil }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let date = formatter.date(from: text) else {
            throw BadQueryParameter(name: name, value: text, allowed: allowed)
        }
        return date
    }

    static func text(_ query: QueryParameters, _ name: String, limit: Int) throws -> String? {
        guard let text = try query.single(name, allowed: ["text"]) else { return nil }
        guard (1...limit).contains(text.count),
            !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw BadQueryParameter(
                name: name,
                value: text,
                allowed: ["1 to \(limit) characters, no control characters"]
            )
        }
        return text
    }
}

extension AuditView: APISchema {
    public static let schemaName = "AuditRecord"
    public static var schema: JSONSchema {
        .object(
            [
                "id": .uuid, "at": .dateTime, "actor": .string, "action": .string, "target": .string,
                "outcome": .string,
            ],
            optional: ["detail": .string]
        )
    }
}
