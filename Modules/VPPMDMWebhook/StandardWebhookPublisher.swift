import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOFoundationCompat
import VPPDomain
import VPPUseCases

/// Declarations to any other DDM server as Standard Webhooks, signed like ``StandardWebhookDelivery``:
/// `declaration.published` carries the whole declaration document and the set it belongs to;
/// `declaration_set.joined` / `declaration_set.left` say which enrollment enters or leaves the app's set. The
/// receiver stores the declaration before any set change points at it (vpp sends them in that order and retries
/// until 2xx). `webhook-id` is the receiver's idempotency key: the declaration's ServerToken for a publication, the
/// set change's id for a join or leave, so a retry repeats the id and new content never does. 410 Gone stops the
/// batch and fails its changes (visible; choose the kind again to resume).
public struct StandardWebhookPublisher: DeclarationPublisher {
    let url: String
    let key: SymmetricKey
    let client: HTTPClient
    let timeout: TimeAmount
    let clock: @Sendable () -> Date

    /// - Throws: ``StandardWebhookDelivery/BadSecret`` when `secret` is not `whsec_` and base64 of 16+ bytes.
    public init(
        url: String,
        secret: String,
        client: HTTPClient,
        timeout: TimeAmount = .seconds(20),
        clock: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        guard secret.hasPrefix("whsec_"), let bytes = Data(base64Encoded: String(secret.dropFirst(6))),
            bytes.count >= 16
        else { throw StandardWebhookDelivery.BadSecret() }
        self.url = url
        key = SymmetricKey(data: bytes)
        self.client = client
        self.timeout = timeout
        self.clock = clock
    }

    public func publish(_ document: Data, identifier: String, set: String) async -> DeliveryOutcome {
        guard let declaration = try? JSONSerialization.jsonObject(with: document) as? [String: Any],
            let token = declaration["ServerToken"] as? String
        else { return .refused("the declaration document is not a JSON object with a ServerToken") }
        return await send(
            id: "msg_decl_" + SHA256Digest.hex(of: "\(identifier)\n\(token)").prefix(32),
            type: "declaration.published",
            data: ["identifier": identifier, "set": set, "declaration": declaration]
        )
    }

    public func setMembership(enrollmentID: String, set: String, member: Bool) async -> DeliveryOutcome {
        await setMembership(enrollmentID: enrollmentID, set: set, member: member, changeID: nil)
    }

    public func setMembership(
        enrollmentID: String,
        set: String,
        member: Bool,
        changeID: UUID?
    ) async
        -> DeliveryOutcome
    {
        // Without a change id (never from vpp's delivery), the id follows the content.
        let id =
            changeID.map { "msg_set_" + $0.uuidString.lowercased() }
            ?? "msg_set_" + SHA256Digest.hex(of: "\(enrollmentID)\n\(set)\n\(member)").prefix(32)
        return await send(
            id: id,
            type: member ? "declaration_set.joined" : "declaration_set.left",
            data: ["enrollmentId": enrollmentID, "set": set]
        )
    }

    func send(id: String, type: String, data: [String: Any]) async -> DeliveryOutcome {
        let now = clock()
        let timestamp = Int(now.timeIntervalSince1970)
        let event: [String: Any] = ["type": type, "timestamp": ISO8601DateFormatter().string(from: now), "data": data]
        guard
            let body = try? JSONSerialization.data(
                withJSONObject: event,
                options: [.sortedKeys, .withoutEscapingSlashes]
            )
        else { return .refused("could not encode the event") }
        return await StandardWebhookDelivery.post(
            body,
            id: id,
            timestamp: timestamp,
            key: key,
            to: url,
            client: client,
            timeout: timeout,
            whenGone: "choose the kind again to resume"
        )
    }
}
