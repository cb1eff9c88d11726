import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat
import VPPDomain
import VPPUseCases

/// Hooks the HTTP layer needs from the running process (readiness, metrics text).
public struct APIHooks: Sendable {
    public var ready: @Sendable () async -> Result<Int, any Error>
    public var metrics: @Sendable () -> String
    public var onRequest: @Sendable (_ method: String, _ route: String, _ status: Int, _ seconds: Double) -> Void

    public init(ready: @escaping @Sendable () async -> Result<Int, any Error>, metrics: @escaping @Sendable () -> String = { "" },
                onRequest: @escaping @Sendable (String, String, Int, Double) -> Void = { _, _, _, _ in }) {
        self.ready = ready
        self.metrics = metrics
        self.onRequest = onRequest
    }
}

/// The REST API of design.md §5 over the use cases.
public enum APIRouter {
    /// Every route, as "METHOD path"; the OpenAPI test checks each is documented.
    public static let routes: [String] = [
        "GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.yaml",
        "GET /v1/tokens", "POST /v1/tokens", "GET /v1/tokens/{id}", "DELETE /v1/tokens/{id}",
        "POST /v1/tokens/{id}/renew", "POST /v1/tokens/{id}/sync", "POST /v1/tokens/{id}/take-over",
        "GET /v1/apps", "POST /v1/apps/{adamId}/licenses", "DELETE /v1/apps/{adamId}/licenses",
        "GET /v1/licenses", "GET /v1/devices", "POST /v1/devices", "GET /v1/users", "POST /v1/users",
        "GET /v1/reports/licenses", "GET /v1/reports/drift", "POST /apple/notifications/{tokenId}",
        "GET /v1/mdm", "PUT /v1/mdm", "GET /v1/device-commands", "POST /v1/device-commands/{id}/ack", "POST /mdm/webhook/{tenantId}",
    ]

    public static func build(services: VPPServices, hooks: APIHooks, logger: Logger) -> Router<VPPRequestContext> {
        let router = Router(context: VPPRequestContext.self)
        router.add(middleware: MetricsMiddleware(hooks: hooks))
        router.add(middleware: ErrorMiddleware<VPPRequestContext>(logger: logger))

        router.get("/healthz") { _, _ in json(["status": "ok"]) }
        router.get("/readyz") { _, _ in
            switch await hooks.ready() {
            case .success(let version): return json(["status": "ready", "schemaVersion": "\(version)"])
            case .failure(let error): return json(["status": "not ready", "reason": "\(error)"], status: .serviceUnavailable)
            }
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: hooks.metrics())))
        }
        router.get("/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
        router.post("/apple/notifications/{tokenId}") { request, context in
            guard let tokenID = TokenID(uuidString: try context.parameters.require("tokenId")),
                  let tenant = try await services.store.tenantOwning(tokenID: tokenID)
            else { throw UseCaseError.unauthorised }
            var request = request
            let body = try await request.collectBody(upTo: context.maxUploadSize)
            let outcome = try await HandleAppleNotification(services: services)(
                tenantID: tenant, tokenID: tokenID, authorization: request.headers[.authorization], body: Data(buffer: body))
            return json(["result": "\(outcome)"])
        }

        let v1 = router.group("v1").add(middleware: APIKeyMiddleware(administration: TenantAdministration(services: services)))
        TokenRoutes.add(to: v1, services: services)
        LicenceRoutes.add(to: v1, services: services)
        MDMRoutes.add(to: router, v1: v1, services: services)
        return router
    }
}

/// Encodes any `Encodable` as the response body.
func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
    return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}


/// Records method, route, status and latency of every request.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = VPPRequestContext
    let hooks: APIHooks

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - started
        let route = context.endpointPath ?? "unmatched"
        hooks.onRequest(request.method.rawValue, route, Int(response.status.code),
                        Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        return response
    }
}

extension Request {
    /// Reads the JSON body under the context's size limit: 413 when larger, 400 naming the problem when unreadable.
    func decodeJSON<T: Decodable>(_ type: T.Type, context: VPPRequestContext) async throws -> T {
        var request = self
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: context.maxUploadSize)
        } catch is NIOTooManyBytesError {
            throw HTTPError(.contentTooLarge)
        }
        return try JSONDecoder().decode(type, from: Data(buffer: buffer))
    }
}
