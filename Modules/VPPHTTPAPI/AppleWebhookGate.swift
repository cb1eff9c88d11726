import Foundation
import VPPDomain
import VPPUseCases

/// The edge of Apple's webhook: the bearer is checked before the body is read, and the envelope is decoded
/// into typed values and checked (lengths, characters, ranges) before the use case or the database sees it.
struct AppleWebhookGate {
    let store: any Store
    let secrets: any SecretBox

    /// Throws `unauthorised` unless `authorization` is the bearer vpp gave Apple for this token.
    func requireBearer(_ authorization: String?, tenant: TenantID, tokenID: TokenID) async throws {
        guard let authorization, authorization.utf8.count <= 512,
            let sealed = try await store.inTenant(tenant, { tx in try await tx.notificationSecret(tokenID) })
        else { throw UseCaseError.unauthorised }
        let expected = "Bearer " + (try secrets.open(sealed))
        guard ConsoleRandom.constantTimeEquals(authorization, expected) else { throw UseCaseError.unauthorised }
    }

    /// Refuses envelopes that are malformed (400 `bad_notification`) or whose fields are too long or out of
    /// range (422 with a specific code).
    static func validate(_ body: Data) throws { _ = try decode(body) }

    /// Apple's envelope as typed values. Not JSON, or missing `notificationId`/`notificationType`, or a field of
    /// the wrong type: ``UseCaseError/badNotification(_:)`` naming what is wrong. A type vpp does not act on is
    /// not refused: it decodes as ``AppleNotification/Kind/other``.
    static func decode(_ body: Data) throws -> AppleNotification {
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: body)
        } catch let error as DecodingError {
            throw UseCaseError.badNotification(Self.describe(error))
        }
        try EdgeValidation.text(envelope.notificationId, field: "notificationId", limit: 200)
        try EdgeValidation.text(envelope.notificationType, field: "notificationType", limit: 200)
        let payload = envelope.notification ?? Payload()
        if let eventID = payload.eventId { try EdgeValidation.text(eventID, field: "notification.eventId", limit: 200) }
        if let adamID = payload.adamId?.value { try EdgeValidation.adamID(adamID, field: "notification.adamId") }
        let pricing = try EdgeValidation.pricingParam(payload.pricingParam)
        let delta = try payload.countDelta.map(Self.countDelta)
        let kind: AppleNotification.Kind
        switch envelope.notificationType {
        case "TEST_NOTIFICATION": kind = .test
        case "ASSET_MANAGEMENT": kind = .assetManagement(eventID: payload.eventId)
        case "ASSET_COUNT":
            kind = .assetCount(
                payload.adamId.flatMap { adamID in
                    delta.map {
                        AssetCountChange(asset: AssetKey(adamID: adamID.value, pricingParam: pricing), delta: $0)
                    }
                }
            )
        case "USER_MANAGEMENT", "USER_ASSOCIATED": kind = .usersChanged
        default: kind = .other
        }
        return AppleNotification(id: envelope.notificationId, type: envelope.notificationType, kind: kind)
    }

    /// A purchase, transfer or refund moves at most a few hundred thousand licences.
    static func countDelta(_ value: Double) throws -> Int {
        guard let delta = Int(exactly: value), abs(delta) <= 10_000_000 else {
            throw InvalidInput(
                code: .outOfRange,
                field: "notification.countDelta",
                detail: "must be an integer between -10000000 and 10000000"
            )
        }
        return delta
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        return switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty: "the body is not JSON"
        case .keyNotFound(let key, let context):
            "\((context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: ".")) is missing"
        case .typeMismatch(_, let context) where context.codingPath.isEmpty: "the body is not a JSON object"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            "\(path(context)) has the wrong type"
        @unknown default: "not an Apple notification envelope"
        }
    }

    /// The envelope as Apple sends it.
    struct Envelope: Decodable {
        let notificationId: String
        let notificationType: String
        let notification: Payload?
    }

    /// The fields of the notification types vpp acts on (all optional: each type carries some of them).
    struct Payload: Decodable {
        var eventId: String?
        var adamId: AdamIDText?
        var pricingParam: String?
        /// Decoded as a number of any form, then required to be a whole number in range (a 422, not a 400).
        var countDelta: Double?
    }

    /// Apple sends `adamId` as a string, and in some payloads as a number.
    struct AdamIDText: Decodable {
        let value: String
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                value = text
            } else {
                value = String(try container.decode(Int.self))
            }
        }
    }
}
