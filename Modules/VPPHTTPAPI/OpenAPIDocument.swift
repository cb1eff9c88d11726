import Foundation

/// The OpenAPI 3.1 description served at `/openapi.yaml`, generated from ``APIContract``'s operations and the
/// schemas their types declare. It is written as JSON, which is also YAML (1.2), so it needs no YAML writer.
public enum OpenAPIDocument {
    /// The document's text.
    public static let yaml: String = {
        let data = try? JSONSerialization.data(
            withJSONObject: build(APIContract.operations),
            options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        )
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }()

    /// The document as a JSON tree (tests read it).
    public static var tree: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(yaml.utf8))) as? [String: Any] ?? [:]
    }

    static let overview = """
        Apple content tokens (Apps and Books / VPP) for MDM servers. Authenticate with an API key: \
        `Authorization: Bearer vpp_…` (create one with `vppctl apikey create --role …` or POST /v1/api-keys). \
        Errors are `{"error": {"code", "message", "requestId"}}`; `code` is stable and always comes with the same \
        status: the codes each status may carry are listed in the `Error<status>` responses (all of them in \
        `Error`). Every answer carries `X-Request-ID` (the client's, when it sends a short one). \
        Request bodies are limited to 256 KiB. Query parameters are strict: booleans are exactly `true` or \
        `false`, enums exactly one of their values, and a parameter an operation does not declare is refused \
        (400 `bad_query_parameter`, naming the parameter and the values allowed). Destructive operations never \
        act by default: DELETE /v1/tokens/{id} only removes with `confirm=true` (otherwise it answers the plan). \
        Listings are keyset pages: the next page is linked in the `Link` header (rel="next"). \
        Versioning: within /v1, fields, operations, error codes and enum values may be added; nothing is removed, \
        renamed or retyped, and a field's meaning does not change. Clients must ignore fields they do not know.
        """

    static func build(_ operations: [APIOperation]) -> [String: Any] {
        var components: [String: Any] = [:]
        var paths: [String: [String: Any]] = [:]
        for operation in operations {
            paths[operation.path, default: [:]][operation.method.rawValue.lowercased()] = describe(
                operation,
                components: &components
            )
        }
        return [
            "openapi": "3.1.0",
            "info": ["title": "vpp", "version": "1.0", "description": overview],
            "servers": [["url": "http://localhost:8080"]],
            "security": [["apiKey": [String]()]],
            "paths": paths,
            "components": [
                "securitySchemes": [
                    "apiKey": ["type": "http", "scheme": "bearer"],
                    "appleBearer": ["type": "http", "scheme": "bearer"],
                ],
                "responses": errorResponses,
                "schemas": components,
            ] as [String: Any],
        ]
    }

    static func describe(_ operation: APIOperation, components: inout [String: Any]) -> [String: Any] {
        var result: [String: Any] = ["operationId": operation.operationID, "summary": operation.summary]
        var notes = operation.details.map { [$0] } ?? []
        switch operation.access {
        case .open: result["security"] = [[String: Any]]()
        case .apiKey(let permission):
            notes.append("Needs an API key whose role grants `\(permission.rawValue)`.")
            result["x-permission"] = permission.rawValue
        case .appleBearer: result["security"] = [["appleBearer": [String]()]]
        case .mdmSignature: result["security"] = [[String: Any]]()
        }
        if !notes.isEmpty { result["description"] = notes.joined(separator: " ") }
        // Every API write takes an Idempotency-Key (IdempotencyMiddleware); the router never sees the header.
        let parameters =
            operation.parameters
            + (operation.access.needsKey && IdempotencyMiddleware.methods.contains(operation.method)
                ? [Self.idempotencyKey] : [])
        if !parameters.isEmpty {
            result["parameters"] = parameters.map { parameter -> [String: Any] in
                var item: [String: Any] = [
                    "name": parameter.name, "in": parameter.location.rawValue,
                    "schema": parameter.schema.rendered(components: &components),
                ]
                if parameter.location == .path { item["required"] = true }
                if let text = parameter.description { item["description"] = text }
                return item
            }
        }
        if let body = operation.requestBody {
            result["requestBody"] = [
                "required": true,
                "content": ["application/json": ["schema": body.rendered(components: &components)]],
            ]
        }
        var responses: [String: Any] = ["default": errorReference]
        for answer in operation.answers {
            var item: [String: Any] = ["description": answer.description]
            var content: [String: Any] = [:]
            for body in answer.bodies {
                content[body.mediaType] = ["schema": body.schema.rendered(components: &components)]
            }
            if !content.isEmpty { item["content"] = content }
            if !answer.headers.isEmpty {
                item["headers"] = answer.headers.mapValues { ["description": $0, "schema": ["type": "string"]] }
            }
            responses["\(answer.status)"] = item
        }
        // Any API-key operation may answer 401; each names the errors worth naming besides the default.
        let errors = operation.errors + (operation.access.needsKey ? [401] : [])
        for status in errors where responses["\(status)"] == nil { responses["\(status)"] = errorReference(status) }
        result["responses"] = responses
        return result
    }

    static var errorReference: [String: Any] { ["$ref": "#/components/responses/Error"] }

    /// The `Idempotency-Key` header every API write accepts.
    static let idempotencyKey = APIOperation.Parameter(
        name: "Idempotency-Key",
        location: .header,
        schema: .string(pattern: "^[!-~]{1,255}$", maxLength: 255),
        description: "Optional. A retry with the same key and request gets the first answer again (kept 24 h, "
            + "per tenant; `Idempotent-Replayed: true`) instead of being carried out twice; the same key with a "
            + "different request is 422 `idempotency_key_reused`, and one still being carried out 409 "
            + "`idempotency_key_in_progress`. 5xx answers are not kept; a request whose write committed but whose "
            + "answer was lost (a server stopped in between) is 409 `idempotency_outcome_lost`, never carried out "
            + "again."
    )

    /// The documented error answer of one status, whose `code` can only be one of that status's codes.
    static func errorReference(_ status: Int) -> [String: Any] {
        codesByStatus[status] == nil ? errorReference : ["$ref": "#/components/responses/Error\(status)"]
    }

    /// Each code under its one status (``APIErrorCode/status``).
    static var codesByStatus: [Int: [APIErrorCode]] {
        Dictionary(grouping: APIErrorCode.allCases, by: { $0.status.code })
    }

    /// `Error` (any code, the `default` answer) and one `Error<status>` per status, listing its codes.
    static var errorResponses: [String: Any] {
        var responses: [String: Any] = ["Error": ["description": "Error", "content": json(errorSchema())]]
        for (status, codes) in codesByStatus {
            let names = codes.map { "`\($0.rawValue)`" }.joined(separator: ", ")
            responses["Error\(status)"] = [
                "description": "Error; `code` is one of \(names)", "content": json(errorSchema(codes)),
            ]
        }
        return responses
    }

    static func json(_ schema: [String: Any]) -> [String: Any] { ["application/json": ["schema": schema]] }

    /// An error body: a stable code (one of `codes`), a message naming the problem, and the request id.
    static func errorSchema(_ codes: [APIErrorCode] = APIErrorCode.allCases) -> [String: Any] {
        [
            "type": "object", "required": ["error"],
            "properties": [
                "error": [
                    "type": "object", "required": ["code", "message", "requestId"],
                    "properties": [
                        "code": ["type": "string", "enum": codes.map(\.rawValue)],
                        "message": ["type": "string"], "requestId": ["type": "string"],
                    ],
                ] as [String: Any]
            ],
        ]
    }
}

extension APIOperation.Access {
    var needsKey: Bool {
        switch self {
        case .apiKey, .appleBearer: true
        case .open, .mdmSignature: false
        }
    }
}
