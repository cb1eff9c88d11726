import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import VPPDomain
import VPPUseCases

/// `Idempotency-Key` on the API's writes (POST, PUT, PATCH, DELETE under `/v1`): a client that lost an answer
/// asks again with the same key and gets the first answer (status and body, `Idempotent-Replayed: true`),
/// without the write being carried out twice. The same key with another request (method, path, query or body)
/// is 422 `idempotency_key_reused`; while the first is still being carried out, 409
/// `idempotency_key_in_progress` with `Retry-After`. Keys are per tenant and kept 24 h (``IdempotentWrites``).
///
/// Only final answers are kept: a 5xx (the database unavailable, the request's deadline passed, Apple unreachable)
/// means the write did not happen or its outcome is unknown, so the claim is released and a retry is carried out
/// again — unless one of the request's writes committed (each write transaction marks the claim,
/// ``IdempotentRequest``): then, as after a server killed between its commit and keeping the answer, a retry is
/// refused with 409 `idempotency_outcome_lost` instead of being carried out twice. A claim that could not be
/// released (the database was down) lapses once the request's deadline has passed, when the request can no longer
/// commit anything.
struct IdempotencyMiddleware: RouterMiddleware {
    typealias Context = VPPRequestContext
    let writes: IdempotentWrites
    let logger: Logger

    /// How long a claim without an answer holds its key when no request deadline bounds the request.
    static let claimWithoutDeadline: TimeInterval = 120
    /// Past its deadline (plus the driver's grace) a request can commit nothing more: its claim may lapse then,
    /// so a retry is not refused as "in progress" for minutes when the claim could not be released (the
    /// database was down when the request failed).
    static func claimFor(now: ContinuousClock.Instant = .now) -> TimeInterval {
        guard let deadline = WorkDeadline.current else { return claimWithoutDeadline }
        let left = deadline - now
        return max(1, Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18 + 2)
    }
    /// Answers larger than this are not kept (the claim is released): write answers are small.
    static let largestAnswer = 1 << 20
    static let methods: Set<HTTPRequest.Method> = [.post, .put, .patch, .delete]

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard Self.methods.contains(request.method), let key = request.headers[.idempotencyKey] else {
            return try await next(request, context)
        }
        guard Self.isAcceptable(key) else { throw IdempotencyRefusal.invalidKey }
        let caller = try context.requireCaller()
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        let fingerprint = Self.fingerprint(request, body: body)
        switch try await writes.claim(caller, key: key, fingerprint: fingerprint, claimFor: Self.claimFor()) {
        case .replay(let answer): return Self.response(answer)
        case .mismatch: throw IdempotencyRefusal.reused
        case .inProgress: throw IdempotencyRefusal.inProgress
        case .outcomeLost: throw IdempotencyRefusal.outcomeLost
        case .claimed: break
        }
        var response: Response
        do {
            let claim = IdempotentRequest(tenantID: caller.tenantID, key: key, fingerprint: fingerprint)
            response = try await IdempotentRequest.$current.withValue(claim) { try await next(request, context) }
            WorkProgress.current?.record("handled, answer \(response.status.code)")
        } catch {
            let failure = ErrorMiddleware.classify(error)
            guard failure.status.code < 500 else {
                await release(caller, key: key, fingerprint: fingerprint)
                throw error
            }
            response = ErrorMiddleware.response(failure, requestID: context.requestID)
        }
        guard response.status.code < 500, let bytes = try await Self.collect(&response) else {
            await release(caller, key: key, fingerprint: fingerprint)
            return response
        }
        let answer = IdempotentAnswer(
            status: Int(response.status.code),
            contentType: response.headers[.contentType],
            body: bytes
        )
        WorkProgress.current?.record("keeping the idempotent answer")
        do {
            // A deadline of its own: the request's may be spent, and the answer is worth keeping.
            try await WorkDeadline.$current.withValue(ContinuousClock.now + .seconds(3)) {
                try await writes.record(caller, key: key, fingerprint: fingerprint, answer: answer)
            }
        } catch {
            // The write is done and its answer goes out; a retry after the claim expires is carried out again.
            logger.warning(
                "idempotent answer not kept",
                metadata: ["requestId": "\(context.requestID)", "error": "\(ErrorMiddleware.logText(error))"]
            )
        }
        return response
    }

    private func release(_ caller: Caller, key: String, fingerprint: String) async {
        try? await WorkDeadline.$current.withValue(ContinuousClock.now + .seconds(3)) {
            try await writes.release(caller, key: key, fingerprint: fingerprint)
        }
    }

    /// 1 to 255 visible ASCII characters (a UUID is the usual choice).
    static func isAcceptable(_ key: String) -> Bool {
        (1...255).contains(key.utf8.count) && key.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }

    /// What identifies the request a key was first used for: method, path, query and the body's digest.
    static func fingerprint(_ request: Request, body: ByteBuffer) -> String {
        var bytes = Array("\(request.method.rawValue) \(request.uri.path)?\(request.uri.query ?? "")\n".utf8)
        bytes += SHA256Digest.hash(body.readableBytesView)
        return SHA256Digest.hash(bytes).lowercaseHex
    }

    /// Reads the response's body (replacing it with the bytes read); nil when it is too large to keep.
    static func collect(_ response: inout Response) async throws -> [UInt8]? {
        let box = Collected()
        try await response.body.write(Collector(box: box))
        let buffer = box.buffer.withLock { $0 }
        response.body = ResponseBody(byteBuffer: buffer)
        return buffer.readableBytes <= largestAnswer ? Array(buffer.readableBytesView) : nil
    }

    static func response(_ answer: IdempotentAnswer) -> Response {
        var headers: HTTPFields = [.idempotentReplayed: "true"]
        if let type = answer.contentType { headers[.contentType] = type }
        return Response(
            status: HTTPResponse.Status(code: answer.status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body))
        )
    }

    final class Collected: Sendable {
        let buffer = Mutex(ByteBuffer())
    }

    struct Collector: ResponseBodyWriter {
        let box: Collected
        mutating func write(_ buffer: ByteBuffer) async throws {
            box.buffer.withLock { collected in
                var part = buffer
                collected.writeBuffer(&part)
            }
        }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}

/// Why a write's `Idempotency-Key` was refused.
enum IdempotencyRefusal: Error, Sendable {
    case invalidKey, reused, inProgress, outcomeLost

    var failure: APIFailure {
        switch self {
        case .invalidKey:
            APIFailure(.invalidIdempotencyKey, "Idempotency-Key must be 1 to 255 visible ASCII characters.")
        case .reused:
            APIFailure(
                .idempotencyKeyReused,
                "This Idempotency-Key was used for a different request (method, path, query or body); "
                    + "use a new key for a new request."
            )
        case .inProgress:
            APIFailure(
                .idempotencyKeyInProgress,
                "A request with this Idempotency-Key is still being carried out; ask again shortly.",
                retryAfter: 1
            )
        case .outcomeLost:
            APIFailure(
                .idempotencyOutcomeLost,
                "The request with this Idempotency-Key was carried out, but its answer was lost (the server stopped "
                    + "or the database went away before the answer was kept); it is not carried out again. "
                    + "Read the resource to see its state."
            )
        }
    }
}

extension HTTPField.Name {
    /// `Idempotency-Key`.
    static var idempotencyKey: Self { Self("Idempotency-Key")! }
    /// `Idempotent-Replayed`: set on an answer replayed for a retry.
    static var idempotentReplayed: Self { Self("Idempotent-Replayed")! }
}
