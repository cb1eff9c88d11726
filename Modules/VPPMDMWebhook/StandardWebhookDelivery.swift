import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOFoundationCompat
import VPPDomain
import VPPUseCases

/// Device commands to any other MDM as Standard Webhooks: one signed JSON event per command
/// (`webhook-id` = the command id, the receiver's idempotency key across retries; `webhook-timestamp`;
/// `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed by the `whsec_` secret).
/// 2xx delivers; 410 Gone disables the endpoint; anything else retries (Retry-After honoured), with the
/// outbox's back-off and jitter for ``DeliveryPolicy/deliveryTimeout`` (72 h).
public struct StandardWebhookDelivery: DeviceCommandDelivery {
    let url: String
    let key: SymmetricKey
    let client: HTTPClient
    let timeout: TimeAmount
    let clock: @Sendable () -> Date

    /// Thrown when the stored secret is not `whsec_` followed by base64.
    public struct BadSecret: Error, CustomStringConvertible {
        public var description: String { "The webhook signing secret is not whsec_<base64>." }
    }

    public init(
        url: String,
        secret: String,
        client: HTTPClient? = nil,
        timeout: TimeAmount = .seconds(20),
        clock: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        guard secret.hasPrefix("whsec_"), let bytes = Data(base64Encoded: String(secret.dropFirst(6))),
            bytes.count >= 16
        else {
            throw BadSecret()
        }
        self.url = url
        key = SymmetricKey(data: bytes)
        self.client = client ?? Self.sharedClient
        self.timeout = timeout
        self.clock = clock
    }

    static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    struct Event: Encodable {
        struct Payload: Encodable {
            let commandUUID: String
            let serialNumber: String
            let enrollmentId: String
            let requestType: String
            let adamId: String?
            /// Base64 of the Apple MDM command plist, ready for the MDM server's queue.
            let plist: String
        }

        let type: String
        let timestamp: String
        let data: Payload
    }

    /// The `webhook-signature` value for `body`.
    public static func signature(id: String, timestamp: Int, body: Data, key: SymmetricKey) -> String {
        let signed = Data("\(id).\(timestamp).".utf8) + body
        return "v1," + Data(HMAC<SHA256>.authenticationCode(for: signed, using: key)).base64EncodedString()
    }

    public func deliver(_ commands: [OutgoingDeviceCommand]) async -> [UUID: DeliveryOutcome] {
        var results: [UUID: DeliveryOutcome] = [:]
        for command in commands {
            let outcome = await deliver(command)
            results[command.id] = outcome
            if case .endpointGone = outcome {
                // Stop at once: the receiver said it wants nothing more.
                for rest in commands where results[rest.id] == nil { results[rest.id] = outcome }
                break
            }
        }
        return results
    }

    func deliver(_ command: OutgoingDeviceCommand) async -> DeliveryOutcome {
        let now = clock()
        let id = "msg_" + command.id.uuidString.lowercased()
        let timestamp = Int(now.timeIntervalSince1970)
        let formatter = ISO8601DateFormatter()
        let event = Event(
            type: "device_command.created",
            timestamp: formatter.string(from: now),
            data: .init(
                commandUUID: command.id.uuidString.uppercased(),
                serialNumber: command.serialNumber,
                enrollmentId: command.enrollmentID,
                requestType: command.requestType.rawValue,
                adamId: command.adamID.isEmpty ? nil : command.adamID,
                plist: command.plist.base64EncodedString()
            )
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let body = try? encoder.encode(event) else { return .refused("could not encode the event") }
        return await Self.post(
            body,
            id: id,
            timestamp: timestamp,
            key: key,
            to: url,
            client: client,
            timeout: timeout,
            whenGone: "reconnect to resume"
        )
    }

    /// POSTs one signed Standard Webhooks event (`webhook-id`, `webhook-timestamp`, `webhook-signature`) and reads
    /// the answer as a delivery outcome: 2xx delivered, 410 the endpoint is gone (`whenGone` says how to resume),
    /// anything else (or no answer) retried, after the endpoint's `Retry-After` when it gives one.
    static func post(
        _ body: Data,
        id: String,
        timestamp: Int,
        key: SymmetricKey,
        to url: String,
        client: HTTPClient,
        timeout: TimeAmount,
        whenGone: String
    ) async -> DeliveryOutcome {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "webhook-id", value: id)
        request.headers.add(name: "webhook-timestamp", value: "\(timestamp)")
        request.headers.add(
            name: "webhook-signature",
            value: signature(id: id, timestamp: timestamp, body: body, key: key)
        )
        request.body = .bytes(ByteBuffer(data: body))
        do {
            let response = try await client.execute(request, timeout: timeout)
            _ = try? await response.body.collect(upTo: 1 << 16)
            switch response.status.code {
            case 200..<300: return .delivered
            case 410: return .endpointGone("the webhook endpoint answered 410 Gone; \(whenGone)")
            default:
                let retryAfter = response.headers.first(name: "Retry-After").flatMap(TimeInterval.init)
                return .retry("webhook endpoint answered HTTP \(response.status.code)", after: retryAfter)
            }
        } catch {
            return .retry("webhook endpoint unreachable: \(String(describing: error).prefix(200))")
        }
    }
}
