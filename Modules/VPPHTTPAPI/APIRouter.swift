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
    /// How long an API key's lookup is reused (a revoked key is refused on other replicas after at most this).
    public var apiKeyCacheTTL: TimeInterval = 5
    /// How long a request may wait for the database and run its transactions (`VPP_REQUEST_DEADLINE_SECONDS`):
    /// past it the answer is 503 with `Retry-After` and nothing of the request commits.
    public var requestDeadline: Duration = .seconds(10)

    public init(
        ready: @escaping @Sendable () async -> Result<Int, any Error>,
        metrics: @escaping @Sendable () -> String = { "" },
        onRequest: @escaping @Sendable (String, String, Int, Double) -> Void = { _, _, _, _ in }
    ) {
        self.ready = ready
        self.metrics = metrics
        self.onRequest = onRequest
    }
}

/// The REST API over the use cases (the README lists its endpoints; `/openapi.yaml` documents each).
public enum APIRouter {
    /// Every route, as "METHOD path", from the single contract (the document describes the same list).
    public static let routes: [String] = APIContract.operations.map(\.route)

    /// The methods routed for a concrete path (for 405 with the allowed methods); nil when no route matches.
    static func methods(forPath path: String) -> [String]? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        let methods = routes.compactMap { route -> String? in
            let pieces = route.split(separator: " ")
            let template = pieces[1].split(separator: "/", omittingEmptySubsequences: false)
            guard template.count == parts.count,
                zip(template, parts).allSatisfy({ $0.hasPrefix("{") || $0 == $1 })
            else { return nil }
            return String(pieces[0])
        }
        return methods.isEmpty ? nil : methods
    }

    public static func build(useCases: APIUseCases, hooks: APIHooks, logger: Logger) -> Router<VPPRequestContext> {
        let router = Router(context: VPPRequestContext.self)
        router.add(middleware: MetricsMiddleware(hooks: hooks, logger: logger))
        router.add(middleware: ErrorMiddleware(logger: logger))
        router.add(middleware: RequestDeadlineMiddleware(limit: hooks.requestDeadline, logger: logger))

        let keys = APIKeyCache(ttl: hooks.apiKeyCacheTTL, now: { useCases.clock.now() })
        let v1 = router.group("v1").add(
            middleware: APIKeyMiddleware(keys: useCases.manageAPIKeys, cache: keys)
        ).add(middleware: IdempotencyMiddleware(writes: useCases.idempotentWrites, logger: logger))
        for operation in APIContract.operations {
            operation.register(on: router, v1: v1, useCases: useCases, hooks: hooks, keys: keys)
        }
        return router
    }
}

/// Encodes any `Encodable` as the response body.
func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
    return Response(
        status: status,
        headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(bytes: data))
    )
}

/// Gives every request an id (the client's `X-Request-ID` when it is a short token), returns it in the
/// `X-Request-ID` header, records method, route, status and latency, and logs one line per request:
/// method, route template (never the path's values or the query), status, duration, request id and tenant.
/// Never a header, a body or a key.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = VPPRequestContext
    let hooks: APIHooks
    let logger: Logger

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        if let given = request.headers[.requestID], Self.isAcceptableID(given) { context.requestID = given }
        let started = ContinuousClock.now
        var response = try await next(request, context)
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let route = context.endpointPath ?? "unmatched"
        hooks.onRequest(request.method.rawValue, route, Int(response.status.code), seconds)
        response.headers[.requestID] = context.requestID
        logger.info(
            "request",
            metadata: [
                "method": "\(request.method.rawValue)", "route": "\(route)", "status": "\(response.status.code)",
                "ms": "\(Int(seconds * 1000))", "requestId": "\(context.requestID)",
                "tenant": "\(context.note.tenant.withLock { $0 }?.description ?? "-")",
            ]
        )
        return response
    }

    /// 1 to 64 letters, digits, `-`, `_` or `.`: anything else is replaced, so the log cannot be forged.
    static func isAcceptableID(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0))
            }
    }
}

/// Gives every request a deadline for its database work (``WorkDeadline``), counted from its arrival: the
/// storage driver bounds the wait for a connection and each transaction by it and refuses to commit past it,
/// so a request meets a failing-over database with a 503 and `Retry-After` within the deadline plus a second,
/// never a late commit its client gave up on. It bounds database work only: Apple's calls have their own
/// timeouts.
///
/// A request still running well past its deadline (which should never happen) is reported with the step its
/// database work is at (``WorkProgress``), so a hang names its place.
struct RequestDeadlineMiddleware: RouterMiddleware {
    typealias Context = VPPRequestContext
    let limit: Duration
    let logger: Logger
    /// How long past its deadline a request runs before it is reported as stuck.
    static let reportAfter: Duration = .seconds(5)

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let deadline = ContinuousClock.now + limit
        let progress = WorkProgress()
        let (logger, requestID) = (self.logger, context.requestID)
        let watchdog = Task {
            var late = Self.reportAfter
            while true {
                try await Task.sleep(until: deadline + late, clock: .continuous)
                logger.warning(
                    "request still running past its deadline",
                    metadata: [
                        "requestId": "\(requestID)", "path": "\(request.uri.path)", "pastDeadline": "\(late)",
                        "step": "\(progress.lastStep)",
                    ]
                )
                late += Self.reportAfter
            }
        }
        defer { watchdog.cancel() }
        return try await WorkProgress.$current.withValue(progress) {
            let response = try await WorkDeadline.within(deadline) { try await next(request, context) }
            progress.record("answered")
            return response
        }
    }
}

extension HTTPField.Name {
    /// `X-Request-ID`.
    static var requestID: Self { Self("X-Request-ID")! }
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
        let data = Data(buffer: buffer)
        // `null` is never a value in this API (optional fields are omitted): refuse it, never read it as absent.
        if let tree = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
            let path = Self.nullPath(in: tree)
        {
            throw DecodingError.valueNotFound(
                Any.self,
                .init(codingPath: [], debugDescription: "null at \(path) (omit the field instead)")
            )
        }
        return try JSONDecoder().decode(type, from: data)
    }

    /// Where the first JSON `null` is, e.g. `devices[0].name`; nil when there is none.
    static func nullPath(in value: Any, at path: String = "") -> String? {
        switch value {
        case is NSNull: return path.isEmpty ? "the top level" : path
        case let object as [String: Any]:
            for (key, item) in object {
                if let found = nullPath(in: item, at: path.isEmpty ? key : "\(path).\(key)") { return found }
            }
            return nil
        case let array as [Any]:
            for (index, item) in array.enumerated() {
                if let found = nullPath(in: item, at: "\(path)[\(index)]") { return found }
            }
            return nil
        default: return nil
        }
    }
}
