import Foundation
import VPPDomain

/// The use-case side of Apple's webhook (`/apple/notifications/{tokenId}`): checks the bearer in
/// constant time, drops duplicates by `notificationId`, and acts on the notification type.
public struct HandleAppleNotification: Sendable {
    let store: any Store
    let clock: any Clock
    let secrets: any SecretBox
    let events: ProcessAppleEvent

    /// Takes only what this use case touches.
    public init(store: any Store, clock: any Clock, secrets: any SecretBox, events: ProcessAppleEvent) {
        self.store = store
        self.clock = clock
        self.secrets = secrets
        self.events = events
    }

    public enum Outcome: Equatable, Sendable {
        case handled(String)
        case duplicate
        case recordedUnknown(String)
    }

    public func callAsFunction(
        tenantID: TenantID, tokenID: TokenID, authorization: String?, body: Data
    ) async throws -> Outcome {
        guard
            let sealed = try await store.inTenant(tenantID, { tx in try await tx.notificationSecret(tokenID) })
        else {
            throw UseCaseError.unauthorised
        }
        let expected = "Bearer " + (try secrets.open(sealed))
        guard let authorization, Self.constantTimeEquals(authorization, expected) else {
            throw UseCaseError.unauthorised
        }
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
            let id = object["notificationId"] as? String, let type = object["notificationType"] as? String
        else { throw UseCaseError.badNotification("not an Apple notification envelope") }
        let now = clock.now()
        let isNew = try await store.inTenant(tenantID) { tx in
            try await tx.markNotificationProcessed(id, type: type, at: now)
        }
        guard isNew else { return .duplicate }
        let payload = object["notification"] as? [String: Any] ?? [:]
        switch type {
        case "TEST_NOTIFICATION":
            return .handled(type)
        case "ASSET_MANAGEMENT":
            // Notifications carry at most 100 items of an event: ask `status` for the authoritative whole.
            if let eventID = payload["eventId"] as? String,
                let event = try await store.inTenant(
                    tenantID, { tx in try await tx.pendingEvents().first { $0.eventID == eventID } })
            {
                try await events.poll(tenantID, event: event)
            }
            return .handled(type)
        case "ASSET_COUNT":
            // Apply the delta at once so the pool is right now; the queued sync then confirms Apple's numbers.
            if let adamID = payload["adamId"] as? String ?? (payload["adamId"] as? Int).map(String.init),
                let delta = payload["countDelta"] as? Int
            {
                let key = AssetKey(
                    adamID: adamID,
                    pricingParam: PricingParam(rawValue: payload["pricingParam"] as? String ?? "STDQ") ?? .standard)
                try await store.inTenant(tenantID) { tx in
                    try await tx.adjustCounts(tokenID: tokenID, asset: key, delta: delta)
                    try await tx.appendAudit(
                        AuditRecord(
                            at: now, actor: "apple", action: "notification.asset-count", target: "\(key)",
                            outcome: "applied", detail: "countDelta \(delta)"))
                }
            }
            try await store.jobs.enqueue(
                JobRequest(tenantID: tenantID, kind: .sync, key: tokenID.description, runAt: now))
            return .handled(type)
        case "USER_MANAGEMENT", "USER_ASSOCIATED":
            // Users changed at Apple: resync the token (one queued sync per token).
            try await store.jobs.enqueue(
                JobRequest(tenantID: tenantID, kind: .sync, key: tokenID.description, runAt: now))
            return .handled(type)
        default:
            try await store.inTenant(tenantID) { tx in
                try await tx.appendAudit(
                    AuditRecord(
                        at: now, actor: "apple", action: "notification.unknown", target: type, outcome: "recorded"))
            }
            return .recordedUnknown(type)
        }
    }

    /// Compares without returning early, so response time reveals nothing about the secret.
    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return difference == 0
    }
}
