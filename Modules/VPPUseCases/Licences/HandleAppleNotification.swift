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

    /// How long a notification waits for the event it names to be recorded (see ``recordedEvent(_:tenantID:)``).
    public let eventRecordWait: Duration = .seconds(3)

    public enum Outcome: Equatable, Sendable {
        case handled(String)
        case duplicate
        case recordedUnknown(String)
    }

    /// Handles `notification` (decoded and checked by the edge that received it) after checking the bearer.
    public func callAsFunction(
        tenantID: TenantID,
        tokenID: TokenID,
        authorization: String?,
        notification: AppleNotification
    ) async throws -> Outcome {
        guard
            let sealed = try await store.inTenant(tenantID, { tx in try await tx.notificationSecret(tokenID) })
        else {
            throw UseCaseError.unauthorised
        }
        let expected = "Bearer " + (try secrets.open(sealed))
        guard let authorization, ConsoleRandom.constantTimeEquals(authorization, expected) else {
            throw UseCaseError.unauthorised
        }
        let now = clock.now()
        let type = notification.type
        let isNew = try await store.inTenant(tenantID) { tx in
            try await tx.markNotificationProcessed(notification.id, type: type, at: now)
        }
        guard isNew else { return .duplicate }
        switch notification.kind {
        case .test:
            return .handled(type)
        case .assetManagement(let eventID):
            // Notifications carry at most 100 items of an event: ask `status` for the authoritative whole.
            if let eventID, let event = try await recordedEvent(eventID, tenantID: tenantID) {
                try await events.poll(tenantID, event: event)
            }
            return .handled(type)
        case .assetCount(let change):
            // Apply the delta at once so the pool is right now; the queued sync then confirms Apple's numbers.
            if let change {
                try await store.inTenant(tenantID) { tx in
                    try await tx.adjustCounts(tokenID: tokenID, asset: change.asset, delta: change.delta)
                    try await tx.appendAudit(
                        AuditRecord(
                            at: now,
                            actor: "apple",
                            entry: AuditEntry(
                                .notificationAssetCount,
                                .app(change.asset),
                                .applied,
                                "countDelta \(change.delta)"
                            )
                        )
                    )
                }
            }
            try await store.jobs.enqueue(
                JobRequest(tenantID: tenantID, kind: .sync, key: .token(tokenID), runAt: now)
            )
            // Licences bought: the waitlist is served now, not after the sync.
            try await RequestReconcile(store: store, clock: clock).ifScoped(tenantID)
            return .handled(type)
        case .usersChanged:
            // Users changed at Apple: resync the token (one queued sync per token).
            try await store.jobs.enqueue(
                JobRequest(tenantID: tenantID, kind: .sync, key: .token(tokenID), runAt: now)
            )
            return .handled(type)
        case .other:
            try await store.inTenant(tenantID) { tx in
                try await tx.appendAudit(
                    AuditRecord(
                        at: now,
                        actor: "apple",
                        entry: AuditEntry(.notificationUnknown, .notification(type: type), .recorded)
                    )
                )
            }
            return .recordedUnknown(type)
        }
    }

    /// The pending event `eventID`, waiting briefly for it: the server that asked Apple records the event
    /// only after Apple's answer, and Apple's notification can arrive first (seen 49 ms before the sender's
    /// commit). Dropping it then would leave the licences pending until the next poll, minutes later.
    private func recordedEvent(_ eventID: String, tenantID: TenantID) async throws -> PendingAppleEvent? {
        let deadline = ContinuousClock.now + eventRecordWait
        while true {
            if let event = try await store.inTenant(tenantID, { tx in try await tx.pendingEvent(eventID) }) {
                return event
            }
            // Not ours (e.g. Apple Configurator's), or already settled and gone: the regular poll covers the rest.
            guard ContinuousClock.now < deadline else { return nil }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
