import Foundation
import Hummingbird
import NIOCore
import NIOFoundationCompat
import VPPDomain
import VPPUseCases

/// Health, readiness, metrics, this document, and Apple's notification webhook: the routes without an API key.
enum SystemRoutes {
    /// `{"status": "ok"}`.
    struct Status: Encodable, APISchema {
        let status: String
        static var schema: JSONSchema { .object(["status": .string]) }
    }

    /// `/readyz`'s answer.
    struct Readiness: Encodable, APISchema {
        let status: String
        let schemaVersion: Int?
        let reason: String?

        static var schema: JSONSchema {
            .object(
                ["status": .oneOf(["ready", "not ready"])],
                optional: ["schemaVersion": .integer, "reason": .string]
            )
        }
    }

    /// The Apple webhook's answer.
    struct NotificationResult: Encodable, APISchema {
        let result: String
        static var schema: JSONSchema { .object(["result": .string]) }
    }

    static let operations: [APIOperation] = [
        APIOperation(
            method: .get,
            path: "/healthz",
            operationID: "health",
            summary: "Liveness",
            access: .open,
            answers: [.json(200, "Alive", .ref(Status.self))]
        ) { _ in json(Status(status: "ok")) },
        APIOperation(
            method: .get,
            path: "/readyz",
            operationID: "readiness",
            summary: "Readiness (database reachable and migrated)",
            access: .open,
            answers: [
                .json(200, "Ready", .ref(Readiness.self)),
                .json(503, "Not ready (Retry-After given)", .ref(Readiness.self)),
            ]
        ) { call in
            switch await call.hooks.ready() {
            case .success(let version): return json(Readiness(status: "ready", schemaVersion: version, reason: nil))
            case .failure(let error):
                var response = json(
                    Readiness(status: "not ready", schemaVersion: nil, reason: "\(error)"),
                    status: .serviceUnavailable
                )
                response.headers[.retryAfter] = "2"
                return response
            }
        },
        APIOperation(
            method: .get,
            path: "/metrics",
            operationID: "metrics",
            summary: "Prometheus metrics",
            access: .open,
            answers: [
                .init(
                    status: 200,
                    description: "Metrics in the Prometheus text format",
                    bodies: [("text/plain", .string)]
                )
            ]
        ) { call in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: call.hooks.metrics()))
            )
        },
        APIOperation(
            method: .get,
            path: "/openapi.yaml",
            operationID: "openAPIDocument",
            summary: "This document (OpenAPI 3.1, written as JSON, which is YAML too)",
            access: .open,
            answers: [.init(status: 200, description: "OpenAPI 3.1", bodies: [("application/yaml", .string)])]
        ) { _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/yaml"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml))
            )
        },
        APIOperation(
            method: .post,
            path: "/apple/notifications/{tokenId}",
            operationID: "appleNotification",
            summary: "Apple's notification webhook (bearer = the notificationAuthToken vpp gave Apple)",
            access: .appleBearer,
            parameters: [.path("tokenId", .uuid)],
            requestBody: .anyObject,
            answers: [.json(200, "Handled or duplicate", .ref(NotificationResult.self))],
            errors: [401],
            handler: appleNotification
        ),
    ]

    static func appleNotification(_ call: APIOperation.Call) async throws -> Response {
        guard let tokenID = TokenID(uuidString: try call.path("tokenId")) else { throw UseCaseError.unauthorised }
        do {
            return try await handleAppleNotification(call, tokenID: tokenID)
        } catch StoreError.unavailable(let detail) {
            // Answered 503; Apple will not send it again soon: its events are polled once the database is back.
            call.useCases.missedNotifications.record(tokenID)
            throw StoreError.unavailable(detail)
        }
    }

    static func handleAppleNotification(_ call: APIOperation.Call, tokenID: TokenID) async throws -> Response {
        let useCases = call.useCases
        guard let tenant = try await useCases.store.tenantOwning(tokenID: tokenID) else {
            throw UseCaseError.unauthorised
        }
        // The bearer is checked before a byte of the body is read: an unauthenticated sender gets 401
        // and the connection is closed, whatever it was streaming.
        try await AppleWebhookGate(store: useCases.store, secrets: useCases.secrets).requireBearer(
            call.request.headers[.authorization],
            tenant: tenant,
            tokenID: tokenID
        )
        var request = call.request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: 64 * 1024) } catch is NIOTooManyBytesError {
            throw HTTPError(.contentTooLarge)
        }
        // Decoded once, here at the edge: a malformed body is a 400 that records nothing.
        let notification = try AppleWebhookGate.decode(Data(buffer: body))
        let outcome = try await useCases.handleAppleNotification(
            tenantID: tenant,
            tokenID: tokenID,
            authorization: request.headers[.authorization],
            notification: notification
        )
        return json(NotificationResult(result: "\(outcome)"))
    }
}
