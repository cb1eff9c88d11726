import Foundation
import HTTPTypes
import Hummingbird
import VPPDomain
import VPPUseCases

/// One operation of the REST API, defined once: the router registers it from this definition and the
/// OpenAPI document describes it from the same definition, so the two cannot disagree. Its declared query
/// parameters are the only ones the handler receives (any other is a 400 before the handler runs), and its
/// declared permission is checked before the handler runs.
struct APIOperation: Sendable {
    /// Who may call the operation.
    enum Access: Sendable {
        /// No credentials (health, metrics, the document).
        case open
        /// An API key whose role grants `permission` (the use case may require more for some inputs).
        case apiKey(Permission)
        /// Apple's bearer (the token's notification secret).
        case appleBearer
        /// The MDM server's signature (`X-Hmac-Signature`), when the tenant set a key.
        case mdmSignature
    }

    /// A path, query or header parameter.
    struct Parameter: Sendable {
        enum Location: String, Sendable {
            case path, query, header
        }
        let name: String
        let location: Location
        let schema: JSONSchema
        var description: String?

        static func path(_ name: String, _ schema: JSONSchema) -> Parameter {
            Parameter(name: name, location: .path, schema: schema)
        }
        static func query(_ name: String, _ schema: JSONSchema, _ description: String? = nil) -> Parameter {
            Parameter(name: name, location: .query, schema: schema, description: description)
        }
    }

    /// One documented answer: a status, and its body's media type and schema (nil: no body of ours).
    struct Answer: Sendable {
        let status: Int
        let description: String
        var bodies: [(mediaType: String, schema: JSONSchema)]
        var headers: [String: String] = [:]

        static func json(_ status: Int, _ description: String, _ schema: JSONSchema) -> Answer {
            Answer(status: status, description: description, bodies: [("application/json", schema)])
        }
    }

    /// What a handler gets: the request, its context, its declared query parameters and the use cases.
    struct Call: Sendable {
        let request: Request
        let context: VPPRequestContext
        let query: QueryParameters
        /// The use cases, built once for every request.
        let useCases: APIUseCases
        let hooks: APIHooks
        /// The API-key cache (revoking or rotating a key here forgets the tenant's entries at once).
        let keys: APIKeyCache

        /// The authenticated caller.
        func caller() throws -> Caller { try context.requireCaller() }

        /// The JSON body as `T` (size-limited, `null` refused).
        func body<T: Decodable>(_ type: T.Type) async throws -> T {
            try await request.decodeJSON(type, context: context)
        }

        /// A path parameter's text.
        func path(_ name: String) throws -> String { try context.parameters.require(name) }
    }

    let method: HTTPRequest.Method
    /// The path template, e.g. `/v1/tokens/{id}` (the router's syntax and OpenAPI's are the same).
    let path: String
    let operationID: String
    let summary: String
    var details: String?
    let access: Access
    var parameters: [Parameter] = []
    /// The request body's schema; nil when the operation reads none.
    var requestBody: JSONSchema?
    /// The answers the handler gives; errors besides these are documented by the common `default` answer.
    let answers: [Answer]
    /// Error statuses worth naming for this operation (each with the common error body).
    var errors: [Int] = []
    let handler: @Sendable (Call) async throws -> Response

    /// `METHOD path`, as the route list and the document's test name operations.
    var route: String { "\(method.rawValue) \(path)" }

    /// The query parameters the operation declares.
    var queryNames: Set<String> { Set(parameters.filter { $0.location == .query }.map(\.name)) }
}

extension APIOperation {
    /// Adds the operation to `router` (or to `v1`, which authenticates, for API-key operations).
    func register(
        on router: Router<VPPRequestContext>,
        v1: RouterGroup<VPPRequestContext>,
        useCases: APIUseCases,
        hooks: APIHooks,
        keys: APIKeyCache
    ) {
        let operation = self
        let respond: @Sendable (Request, VPPRequestContext) async throws -> Response = { request, context in
            let query = try QueryParameters(request, declared: operation.queryNames)
            if case .apiKey(let permission) = operation.access { try context.requireCaller().require(permission) }
            return try await operation.handler(
                Call(
                    request: request,
                    context: context,
                    query: query,
                    useCases: useCases,
                    hooks: hooks,
                    keys: keys
                )
            )
        }
        if case .apiKey = access {
            v1.on(RouterPath(String(path.dropFirst("/v1/".count))), method: method, use: respond)
        } else {
            router.on(RouterPath(path), method: method, use: respond)
        }
    }
}
