import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import VPPDomain
import VPPUseCases

/// One HTTP exchange with Apple, with Apple's etiquette: rate limit per token, deadline, size cap,
/// `errorNumber` checked on every answer (HTTP 200 included), back-off with jitter on 9646/429/5xx
/// honouring `Retry-After`, and a cap on attempts and total time.
struct AppleTransport: Sendable {
    let configuration: AppleClientConfiguration
    let httpClient: HTTPClient
    let limiter: any AppleRequestLimiter
    let logger: Logger

    struct Answer: Sendable {
        let body: Data
        let context: AppleResponseContext
    }

    /// Sends a request and returns the body of a successful answer.
    /// - Parameters:
    ///   - credentials: `nil` only for `service/config`.
    ///   - rate: the token's `maxRequestPerSecond`.
    ///
    /// Throws ``AppleAPIError`` for whatever Apple (or the way to it) did; a failure of the shared request
    /// limiter's database is thrown as it is (a ``StoreError``), never as "Cannot reach Apple": the operator
    /// must look at the database, and Apple was never asked.
    func send(
        method: HTTPMethod,
        url: String,
        query: [(String, String)] = [],
        body: Data? = nil,
        credentials: AppleCredentials?,
        rate: Int
    ) async throws -> Answer {
        let clock = ContinuousClock()
        let started = clock.now
        var attempt = 0
        let endpoint = String(url.dropFirst(configuration.baseURL.count))
        while true {
            attempt += 1
            let outcome: Result<Answer, AppleAPIError>
            let retryAfter: Int?
            if let credentials {
                do {
                    try await limiter.acquire(key: credentials.token.fingerprint, perSecond: rate)
                } catch is CancellationError {
                    throw AppleAPIError.transport("cancelled")
                }
            }
            do {
                let exchange = try await exchange(
                    method: method,
                    url: url,
                    query: query,
                    body: body,
                    credentials: credentials
                )
                (outcome, retryAfter) = (
                    interpret(exchange, credentials: credentials, checkHolder: method == .GET), exchange.retryAfter
                )
            } catch let error as AppleAPIError {
                (outcome, retryAfter) = (.failure(error), nil)
            } catch is CancellationError {
                throw AppleAPIError.transport("cancelled")
            } catch {
                (outcome, retryAfter) = (.failure(.transport(String(describing: error).prefix(200).description)), nil)
            }
            if let observer = configuration.observer {
                switch outcome {
                case .success: observer(endpoint, "ok")
                case .failure(let error): observer(endpoint, String(describing: error).prefix { $0 != "(" }.description)
                }
            }
            switch outcome {
            case .success(let answer):
                return answer
            case .failure(let error):
                // A POST whose fate is unknown (connection lost) is not repeated: Apple may have acted on it.
                let retryable = error.isTransient && (method == .GET || Self.wasRefusedByServer(error))
                let elapsed = clock.now - started
                let wait = retryAfter.map { Duration.seconds($0) } ?? backoff(attempt: attempt)
                guard retryable, attempt < configuration.maxAttempts, elapsed + wait <= configuration.maxRetryDuration
                else {
                    logger.warning(
                        "Apple call failed",
                        metadata: ["endpoint": "\(endpoint)", "attempts": "\(attempt)", "error": "\(error)"]
                    )
                    throw error as AppleAPIError
                }
                logger.info(
                    "Apple call will be retried",
                    metadata: [
                        "endpoint": "\(endpoint)", "attempt": "\(attempt)",
                        "waitMs":
                            "\(wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000)",
                        "error": "\(error)",
                    ]
                )
                do { try await Task.sleep(for: wait) } catch { throw AppleAPIError.transport("cancelled") }
            }
        }
    }

    /// Exponential back-off with "full jitter" between half and all of the step, capped.
    func backoff(attempt: Int) -> Duration {
        let step = configuration.initialBackoff * (1 << min(attempt - 1, 20))
        let capped = min(step, configuration.maxBackoff)
        return capped * Double.random(in: 0.5...1.0)
    }

    static func wasRefusedByServer(_ error: AppleAPIError) -> Bool {
        switch error {
        case .rateLimited, .serviceUnavailable, .httpStatus: true
        case .apple(let number, _): number == 9603
        default: false
        }
    }

    private struct Exchange {
        let status: Int
        let body: Data
        let retryAfter: Int?
    }

    private func exchange(
        method: HTTPMethod,
        url: String,
        query: [(String, String)],
        body: Data?,
        credentials: AppleCredentials?
    ) async throws -> Exchange {
        var components = URLComponents(string: url)
        if !query.isEmpty { components?.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        guard let fullURL = components?.string else { throw AppleAPIError.transport("bad URL \(url)") }
        var request = HTTPClientRequest(url: fullURL)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        if let credentials {
            request.headers.add(name: "Authorization", value: "Bearer \(credentials.token.revealForTransport())")
        }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: body))
        }
        let timeout = configuration.requestTimeout
        let deadline =
            NIODeadline.now()
            + .nanoseconds(
                Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
            )
        let maxBytes = configuration.maxResponseBytes
        let client = httpClient
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: deadline)
        } catch let error as HTTPClientError
            where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout
        {
            throw AppleAPIError.timeout
        }
        let buffer: ByteBuffer
        do {
            buffer = try await Self.withDeadline(deadline) { try await response.body.collect(upTo: maxBytes) }
        } catch is NIOTooManyBytesError {
            throw AppleAPIError.responseTooLarge(limit: maxBytes)
        }
        let retryAfter = response.headers.first(name: "Retry-After").flatMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        return Exchange(status: Int(response.status.code), body: Data(buffer: buffer), retryAfter: retryAfter)
    }

    /// Runs `body`, failing with ``AppleAPIError/timeout`` at `deadline`.
    static func withDeadline<T: Sendable>(
        _ deadline: NIODeadline,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                let remaining = deadline - .now()
                try await Task.sleep(nanoseconds: UInt64(max(0, remaining.nanoseconds)))
                throw AppleAPIError.timeout
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// Reads Apple's answer: error bodies first (whatever the status), then the envelope and holder.
    /// - Parameter checkHolder: compare `mdmInfo` with the expected holder. Only for reads: a write Apple has
    ///   already carried out must not be reported as failed; the next read (status, sync) raises the conflict.
    private func interpret(
        _ exchange: Exchange,
        credentials: AppleCredentials?,
        checkHolder: Bool
    ) -> Result<Answer, AppleAPIError> {
        let decoder = JSONDecoder()
        let excerpt = String(decoding: exchange.body.prefix(200), as: UTF8.self)
        if let error = try? decoder.decode(WireError.self, from: exchange.body), let number = error.errorNumber,
            number != 0
        {
            return .failure(
                AppleAPIError.from(
                    errorNumber: number,
                    message: error.errorMessage ?? "",
                    retryAfter: exchange.retryAfter
                )
            )
        }
        switch exchange.status {
        case 200..<300: break
        case 429: return .failure(.rateLimited(retryAfterSeconds: exchange.retryAfter))
        case 503: return .failure(.serviceUnavailable(retryAfterSeconds: exchange.retryAfter))
        default: return .failure(.httpStatus(exchange.status, excerpt: excerpt))
        }
        guard (try? JSONSerialization.jsonObject(with: exchange.body)) is [String: Any] else {
            return .failure(.malformedResponse(status: exchange.status, excerpt: excerpt))
        }
        guard credentials != nil else { return .success(Answer(body: exchange.body, context: AppleResponseContext())) }
        let envelope = try? decoder.decode(WireEnvelope.self, from: exchange.body)
        var context = AppleResponseContext(
            locationUID: envelope?.uId,
            tokenExpiresAt: envelope?.tokenExpirationDate.flatMap(ISO8601Timestamp.parse)
        )
        if let info = envelope?.mdmInfo, let id = info.id {
            context.holder = HolderIdentity(id: id, name: info.name ?? "", metadata: info.metadata ?? "")
        }
        if checkHolder, let expected = credentials?.expectedHolder, let holder = context.holder,
            !holder.isSameHolder(as: expected)
        {
            return .failure(.claimedByAnotherHolder(holder))
        }
        return .success(Answer(body: exchange.body, context: context))
    }
}
