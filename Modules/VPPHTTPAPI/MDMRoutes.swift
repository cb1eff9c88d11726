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
    struct ConnectBody: Decodable {
        let kind: String
        let url: String?
        let apiKey: String?
        let webhookHmacKey: String?
        let reclaimAfter: String?
        let silentDaysUnenrolled: Int?
        let licenceOnly: Bool?
        let licenceOnlyAdamIds: [String]?
    }

    struct AckBody: Decodable {
        let status: String
        let error: String?
    }

    struct CommandPage: Encodable {
        let commands: [DeviceCommandView]
        /// Pass as `after` for the next page; absent when this page was the last.
        let next: String?
    }

    static let hmacHeader = HTTPField.Name("X-Hmac-Signature")!

    static func add(to router: Router<VPPRequestContext>, v1: RouterGroup<VPPRequestContext>, services: VPPServices) {
        router.post("/mdm/webhook/{tenantId}") { request, context in
            try await respond(context) {
                guard let tenant = TenantID(uuidString: try context.parameters.require("tenantId")) else {
                    throw MDMError.badSignature
                }
                var request = request
                let body: ByteBuffer
                do {
                    body = try await request.collectBody(upTo: 4 * 1024 * 1024)
                } catch is NIOTooManyBytesError {
                    throw HTTPError(.contentTooLarge)
                }
                let state = try await ReceiveMDMWebhook(services: services)(
                    tenantID: tenant, signature: request.headers[hmacHeader], body: Array(buffer: body))
                return json(["recorded": state.rawValue])
            }
        }

        v1.put("mdm") { request, context in
            let body = try await request.decodeJSON(ConnectBody.self, context: context)
            guard let kind = MDMKind(rawValue: body.kind) else {
                return invalid(
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
                reclaimAfter: reclaimAfter,
                silentDaysUnenrolled: body.silentDaysUnenrolled, licenceOnly: body.licenceOnly,
                licenceOnlyAdamIDs: body.licenceOnlyAdamIds.map(Set.init))
            return try await respond(context) {
                json(try await ConfigureMDM(services: services).connect(try context.requireCaller(), connect))
            }
        }
        v1.get("mdm") { _, context in
            try await respond(context) {
                json(try await ConfigureMDM(services: services).show(try context.requireCaller()))
            }
        }
        v1.get("device-commands") { request, context in
            let query = request.uri.queryParameters
            var states: Set<DeviceCommandState>?
            if let text = query["state"] {
                guard let state = DeviceCommandState(rawValue: String(text)) else {
                    return invalid(
                        "state must be one of \(DeviceCommandState.allCases.map(\.rawValue).joined(separator: ", ")).",
                        context)
                }
                states = [state]
            }
            var after: DeviceCommandCursor?
            if let text = query["after"], !text.isEmpty {
                guard let cursor = DeviceCommandCursor(String(text)) else {
                    return invalid("after must be a cursor returned by this API.", context)
                }
                after = cursor
            }
            let limitText = query["limit"].map(String.init) ?? "100"
            guard let limit = Int(limitText), (1...1000).contains(limit) else {
                return invalid("limit must be a number from 1 to 1000.", context)
            }
            let commands = try await DeviceCommandList(services: services).list(
                try context.requireCaller(),
                DeviceCommandQuery(
                    serialNumber: query["serial"].map { String($0).uppercased() }, states: states,
                    after: after, limit: limit), withPlist: true)
            return json(CommandPage(commands: commands, next: commands.count == limit ? commands.last?.cursor : nil))
        }
        v1.post("device-commands/{id}/ack") { request, context in
            guard let id = UUID(uuidString: try context.parameters.require("id")) else {
                return ErrorMiddleware.response(
                    APIFailure(.notFound, .refused, "No such device command."), requestID: context.requestID)
            }
            let body = try await request.decodeJSON(AckBody.self, context: context)
            return try await respond(context) {
                json(
                    try await DeviceCommandList(services: services).acknowledge(
                        try context.requireCaller(), id: id, status: body.status,
                        error: body.error))
            }
        }
    }

    /// Runs `body`, answering an ``MDMError`` with its own status and the message that names the problem.
    static func respond(_ context: VPPRequestContext, _ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let error as MDMError {
            return failure(error, context)
        }
    }

    static func invalid(_ message: String, _ context: VPPRequestContext) -> Response {
        ErrorMiddleware.response(
            APIFailure(.unprocessableContent, .badQueryParameter, message), requestID: context.requestID)
    }

    static func failure(_ error: MDMError, _ context: VPPRequestContext) -> Response {
        let (status, code): (HTTPResponse.Status, APIErrorCode) =
            switch error {
            case .notConnected, .unknownCommand: (.notFound, .refused)
            case .badSignature: (.unauthorized, .unauthorized)
            case .badAcknowledgement: (.conflict, .invalidTransition)
            case .badURL, .missingAPIKey, .badSecret, .badDuration: (.unprocessableContent, .badRequest)
            }
        return ErrorMiddleware.response(APIFailure(status, code, error.description), requestID: context.requestID)
    }
}
