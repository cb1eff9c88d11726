import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import VPPDomain
import VPPUseCases

/// `/v1/mdm`, `/v1/device-commands…` (the pull API) and the MDM server's webhook `/mdm/webhook/{tenantId}`.
enum MDMRoutes {
    /// The API's view of a connection request; secrets arrive in the body and are sealed at once.
    struct ConnectBody: Codable, APISchema {
        static let schemaName = "MDMConnectionRequest"
        static var schema: JSONSchema {
            .object(
                ["kind": .oneOf(MDMKind.self)],
                optional: [
                    "url": .string.described("The MDM server's base URL (webhook: the endpoint); not needed for pull"),
                    "apiKey": .string.described("NanoMDM/MicroMDM API key; stored encrypted, never returned"),
                    "webhookHmacKey": .string.described("Key the MDM server signs its webhook with (X-Hmac-Signature)"),
                    "reclaimAfter": .string.described(
                        "Grace period before an unenrolled device's licences are reclaimed: 0, 90s, 30m, 24h, 7d"),
                    "silentDaysUnenrolled": .integer(minimum: 1, maximum: 3650),
                    "licenceOnly": .boolean.described("Assign without sending installs (third-party installers)"),
                    "licenceOnlyAdamIds": .array(.string),
                ])
        }

        let kind: String
        let url: String?
        let apiKey: String?
        let webhookHmacKey: String?
        let reclaimAfter: String?
        let silentDaysUnenrolled: Int?
        let licenceOnly: Bool?
        let licenceOnlyAdamIds: [String]?
    }

    struct AckBody: Codable, APISchema {
        let status: String
        let error: String?

        static let schemaName = "DeviceCommandReport"
        static var schema: JSONSchema {
            .object(
                ["status": .oneOf(["delivered", "acknowledged", "error", "notNow"])], optional: ["error": .string])
        }
    }

    struct CommandPage: Encodable, APISchema {
        let commands: [DeviceCommandView]
        /// Pass as `after` for the next page; absent when this page was the last.
        let next: String?

        static let schemaName = "DeviceCommandPage"
        static var schema: JSONSchema {
            .object(
                ["commands": .array(.ref(DeviceCommandView.self))],
                optional: ["next": .string.described("Pass as after for the next page; absent on the last page")])
        }
    }

    /// The webhook's answer: the state the event was recorded in.
    struct Recorded: Encodable, APISchema {
        let recorded: String
        static let schemaName = "WebhookRecorded"
        static var schema: JSONSchema { .object(["recorded": .string]) }
    }

    static let hmacHeader = HTTPField.Name("X-Hmac-Signature")!

    static let operations: [APIOperation] = [
        APIOperation(
            method: .post, path: "/mdm/webhook/{tenantId}", operationID: "mdmWebhook",
            summary: "The MicroMDM-compatible webhook of NanoMDM, NanoHUB and MicroMDM (X-Hmac-Signature required "
                + "when a key is set; bodies up to 1 MiB, 413 beyond; a repeat of an event, same id and content, "
                + "within the retention period answers duplicate and is not stored)",
            access: .mdmSignature,
            parameters: [
                .path("tenantId", .uuid),
                APIOperation.Parameter(
                    name: "X-Hmac-Signature", location: .header, schema: .string,
                    description: "base64 HMAC-SHA256 of the raw body"),
            ],
            requestBody: .anyObject,
            answers: [.json(200, "Recorded (processed from the queue)", .ref(Recorded.self))], errors: [401, 413]
        ) { call in
            try await respond(call.context) {
                guard let tenant = TenantID(uuidString: try call.path("tenantId")) else {
                    throw MDMError.badSignature
                }
                var request = call.request
                let body: ByteBuffer
                do {
                    body = try await request.collectBody(upTo: ReceiveMDMWebhook.maximumBodySize)
                } catch is NIOTooManyBytesError {
                    throw HTTPError(.contentTooLarge)
                }
                let state = try await ReceiveMDMWebhook(services: call.services)(
                    tenantID: tenant, signature: request.headers[hmacHeader], body: Array(buffer: body))
                return json(Recorded(recorded: state.rawValue))
            }
        },
        APIOperation(
            method: .put, path: "/v1/mdm", operationID: "connectMDM",
            summary: "Connect the tenant to its MDM server (nanomdm also serves NanoHUB; webhook answers its whsec_ "
                + "secret once); needs mdm-admin",
            access: .apiKey(.manageTenant), requestBody: .ref(ConnectBody.self),
            answers: [.json(200, "Connected", .ref(MDMConnectionView.self))], errors: [403, 422], handler: connect),
        APIOperation(
            method: .get, path: "/v1/mdm", operationID: "showMDM",
            summary: "The tenant's MDM connection (never its secrets), the webhook URL to give the MDM server, and "
                + "device commands by state",
            access: .apiKey(.read), answers: [.json(200, "Connection", .ref(MDMConnectionView.self))], errors: [404]
        ) { call in
            try await respond(call.context) {
                json(try await ConfigureMDM(services: call.services).show(try call.caller()))
            }
        },
        APIOperation(
            method: .get, path: "/v1/device-commands", operationID: "listDeviceCommands",
            summary: "Device commands oldest first with their delivery state and Apple plist (the pull API for MDMs "
                + "that poll)",
            access: .apiKey(.read),
            parameters: [
                .query("after", .string, "The `next` (or a command's `cursor`) of the previous page"),
                .query("limit", .integer(minimum: 1, maximum: 1000, default: 100)),
                .query("serial", .string), .query("state", .oneOf(DeviceCommandState.self)),
            ],
            answers: [.json(200, "A page", .ref(CommandPage.self))], errors: [400], handler: commands),
        APIOperation(
            method: .post, path: "/v1/device-commands/{id}/ack", operationID: "acknowledgeDeviceCommand",
            summary: "A pulling MDM reports what became of a command (delivered, acknowledged, error, notNow)",
            access: .apiKey(.read), parameters: [.path("id", .uuid)], requestBody: .ref(AckBody.self),
            answers: [.json(200, "Recorded", .ref(DeviceCommandView.self))], errors: [404, 409]
        ) { call in
            guard let id = UUID(uuidString: try call.path("id")) else {
                return ErrorMiddleware.response(
                    APIFailure(.unknownCommand, "No such device command."), requestID: call.context.requestID)
            }
            let body = try await call.body(AckBody.self)
            return try await respond(call.context) {
                json(
                    try await DeviceCommandList(services: call.services).acknowledge(
                        try call.caller(), id: id, status: body.status, error: body.error))
            }
        },
    ]

    static func connect(_ call: APIOperation.Call) async throws -> Response {
        let body = try await call.body(ConnectBody.self)
        let context = call.context
        guard let kind = MDMKind(rawValue: body.kind) else {
            return invalid(
                .invalidMDMConnection,
                "kind must be one of \(MDMKind.allCases.map(\.rawValue).joined(separator: ", ")).", context)
        }
        var reclaimAfter: TimeInterval?
        if let text = body.reclaimAfter {
            do throws(MDMError) { reclaimAfter = try MDMError.duration(text) } catch {
                return failure(error, context)
            }
        }
        let connect = MDMConnectionRequest(
            kind: kind, url: body.url ?? "", apiKey: body.apiKey, webhookHMACKey: body.webhookHmacKey,
            reclaimAfter: reclaimAfter, silentDaysUnenrolled: body.silentDaysUnenrolled, licenceOnly: body.licenceOnly,
            licenceOnlyAdamIDs: body.licenceOnlyAdamIds.map(Set.init))
        return try await respond(context) {
            json(try await ConfigureMDM(services: call.services).connect(try call.caller(), connect))
        }
    }

    static func commands(_ call: APIOperation.Call) async throws -> Response {
        let (query, context) = (call.query, call.context)
        var states: Set<DeviceCommandState>?
        if let text = try query.single("state", allowed: DeviceCommandState.allCases.map(\.rawValue)) {
            guard let state = DeviceCommandState(rawValue: text) else {
                return invalid(
                    .badQueryParameter,
                    "state must be one of \(DeviceCommandState.allCases.map(\.rawValue).joined(separator: ", ")).",
                    context)
            }
            states = [state]
        }
        var after: DeviceCommandCursor?
        if let text = try query.single("after", allowed: ["a cursor"]), !text.isEmpty {
            guard let cursor = DeviceCommandCursor(text) else {
                return invalid(.badQueryParameter, "after must be a cursor returned by this API.", context)
            }
            after = cursor
        }
        let limitText = try query.single("limit", allowed: ["1…1000"]) ?? "100"
        guard let limit = Int(limitText), (1...1000).contains(limit) else {
            return invalid(.badQueryParameter, "limit must be a number from 1 to 1000.", context)
        }
        let commands = try await DeviceCommandList(services: call.services).list(
            try call.caller(),
            DeviceCommandQuery(
                serialNumber: try query.single("serial", allowed: ["a serial number"]).map { $0.uppercased() },
                states: states, after: after, limit: limit), withPlist: true)
        return json(CommandPage(commands: commands, next: commands.count == limit ? commands.last?.cursor : nil))
    }

    /// Runs `body`, answering an ``MDMError`` with its own status and the message that names the problem.
    static func respond(_ context: VPPRequestContext, _ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let error as MDMError {
            return failure(error, context)
        }
    }

    static func invalid(_ code: APIErrorCode, _ message: String, _ context: VPPRequestContext) -> Response {
        ErrorMiddleware.response(APIFailure(code, message), requestID: context.requestID)
    }

    static func failure(_ error: MDMError, _ context: VPPRequestContext) -> Response {
        let code: APIErrorCode =
            switch error {
            case .notConnected: .mdmNotConnected
            case .unknownCommand: .unknownCommand
            case .badSignature, .unsignedWebhook: .unauthorized
            case .badAcknowledgement: .invalidTransition
            case .badURL, .refusedURL, .missingAPIKey, .badSecret, .badDuration: .invalidMDMConnection
            }
        return ErrorMiddleware.response(APIFailure(code, error.description), requestID: context.requestID)
    }
}
