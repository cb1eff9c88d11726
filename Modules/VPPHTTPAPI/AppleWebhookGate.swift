import Foundation
import VPPDomain
import VPPUseCases

/// The edge of Apple's webhook: the bearer is checked before the body is read, and the envelope's fields
/// are checked (lengths, characters, ranges) before the use case or the database sees them.
struct AppleWebhookGate {
    let services: VPPServices

    /// Throws `unauthorised` unless `authorization` is the bearer vpp gave Apple for this token.
    func requireBearer(_ authorization: String?, tenant: TenantID, tokenID: TokenID) async throws {
        guard let authorization, authorization.utf8.count <= 512,
            let sealed = try await services.store.inTenant(tenant, { tx in try await tx.notificationSecret(tokenID) })
        else { throw UseCaseError.unauthorised }
        let expected = "Bearer " + (try services.secrets.open(sealed))
        guard Self.constantTimeEquals(authorization, expected) else { throw UseCaseError.unauthorised }
    }

    /// Refuses envelopes whose fields are malformed, too long or out of range (422 with a specific code).
    static func validate(_ body: Data) throws {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return }
        for field in ["notificationId", "notificationType"] {
            if let value = object[field] as? String { try EdgeValidation.text(value, field: field, limit: 200) }
        }
        guard let payload = object["notification"] as? [String: Any] else { return }
        if let adamID = payload["adamId"] as? String { try EdgeValidation.adamID(adamID, field: "notification.adamId") }
        if let eventID = payload["eventId"] as? String {
            try EdgeValidation.text(eventID, field: "notification.eventId", limit: 200)
        }
        if let pricing = payload["pricingParam"] as? String { _ = try EdgeValidation.pricingParam(pricing) }
        if let delta = payload["countDelta"] {
            // A purchase, transfer or refund moves at most a few hundred thousand licences.
            guard let number = delta as? NSNumber, let value = Int(exactly: number.doubleValue),
                abs(value) <= 10_000_000
            else {
                throw InvalidInput(
                    code: .outOfRange, field: "notification.countDelta",
                    detail: "must be an integer between -10000000 and 10000000")
            }
        }
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<min(x.count, y.count) { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
