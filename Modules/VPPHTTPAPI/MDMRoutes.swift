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
            guard let tenant = TenantID(uuidString: try context.parameters.require("tenantId")) else {
                throw HTTPError(.unauthorized, message: MDMError.badSignature.description)
            }
            var request = request
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: 4 * 1024 * 1024)
            } catch is NIOTooManyBytesError {
                throw HTTPError(.contentTooLarge)
            }
            do {
                let state = try await ReceiveMDMWebhook(services: services)(
                    tenantID: tenant, signature: request.headers[hmacHeader], body: Array(buffer: body))
                return json(["recorded": state.rawValue])
            } catch let error as MDMError {
                throw HTTPError(.unauthorized, message: error.description)
            } catch StoreError.constraintViolation {
                throw HTTPError(.unauthorized, message: MDMError.badSignature.description)  // no such tenant
            }
        }

        v1.put("mdm") { request, context in
            let body = try await request.decodeJSON(ConnectBody.self, context: context)
            guard let kind = MDMKind(rawValue: body.kind) else {
                throw HTTPError(.unprocessableContent, message: "kind must be one of \(MDMKind.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            var reclaimAfter: TimeInterval?
            if let text = body.reclaimAfter { reclaimAfter = try await mapped { try MDMError.duration(text) } }
            let connect = MDMConnectionRequest(
                kind: kind, url: body.url ?? "", apiKey: body.apiKey, webhookHMACKey: body.webhookHmacKey,
                reclaimAfter: reclaimAfter,
                silentDaysUnenrolled: body.silentDaysUnenrolled, licenceOnly: body.licenceOnly,
                licenceOnlyAdamIDs: body.licenceOnlyAdamIds.map(Set.init))
            return json(try await mapped { try await ConfigureMDM(services: services).connect(try context.requireCaller(), connect) })
        }
        v1.get("mdm") { _, context in json(try await mapped { try await ConfigureMDM(services: services).show(try context.requireCaller()) }) }
        v1.get("device-commands") { request, context in
            let query = request.uri.queryParameters
            var states: Set<DeviceCommandState>?
            if let text = query["state"] {
                guard let state = DeviceCommandState(rawValue: String(text)) else {
                    throw HTTPError(.unprocessableContent, message: "state must be one of \(DeviceCommandState.allCases.map(\.rawValue).joined(separator: ", ")).")
                }
                states = [state]
            }
            var after: DeviceCommandCursor?
            if let text = query["after"], !text.isEmpty {
                guard let cursor = DeviceCommandCursor(String(text)) else {
                    throw HTTPError(.unprocessableContent, message: "after must be a cursor returned by this API.")
                }
                after = cursor
            }
            let limitText = query["limit"].map(String.init) ?? "100"
            guard let limit = Int(limitText), (1...1000).contains(limit) else {
                throw HTTPError(.unprocessableContent, message: "limit must be a number from 1 to 1000.")
            }
            let commands = try await DeviceCommandList(services: services).list(
                try context.requireCaller(), DeviceCommandQuery(serialNumber: query["serial"].map { String($0).uppercased() }, states: states,
                                                                after: after, limit: limit), withPlist: true)
            return json(CommandPage(commands: commands, next: commands.count == limit ? commands.last?.cursor : nil))
        }
        v1.post("device-commands/{id}/ack") { request, context in
            guard let id = UUID(uuidString: try context.parameters.require("id")) else {
                throw HTTPError(.notFound, message: "No such device command.")
            }
            let body = try await request.decodeJSON(AckBody.self, context: context)
            return json(try await mapped {
                try await DeviceCommandList(services: services).acknowledge(try context.requireCaller(), id: id, status: body.status, error: body.error)
            })
        }
    }

    /// MDM refusals as HTTP errors with the message that names the problem.
    static func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as MDMError {
            switch error {
            case .notConnected, .unknownCommand: throw HTTPError(.notFound, message: error.description)
            case .badSignature: throw HTTPError(.unauthorized, message: error.description)
            case .badAcknowledgement: throw HTTPError(.conflict, message: error.description)
            default: throw HTTPError(.unprocessableContent, message: error.description)
            }
        }
    }
}
