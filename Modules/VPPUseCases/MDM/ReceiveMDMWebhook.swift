import Foundation
import VPPDomain

/// Records a MicroMDM-compatible webhook event (NanoMDM, NanoHUB, MicroMDM) durably, in vpp's own form, and
/// answers at once; ``ProcessMDMEvents`` acts on it from the job queue. The HTTP edge has decoded the body
/// (``MDMWebhookFormat``); a malformed one is refused after the signature is checked, and nothing is recorded.
/// NanoMDM never retries, so anything but a quick 200 loses the event.
public struct ReceiveMDMWebhook: Sendable {
    let store: any Store
    let clock: any Clock
    let secrets: any SecretBox

    /// Takes only what this use case touches.
    public init(store: any Store, clock: any Clock, secrets: any SecretBox) {
        self.store = store
        self.clock = clock
        self.secrets = secrets
    }

    /// - Parameters:
    ///   - signature: the `X-Hmac-Signature` header (base64 HMAC-SHA256 of the raw body).
    ///   - pathSecret: the key as given in the URL (`/mdm/webhook/{tenantId}/{key}`), by an MDM server that cannot
    ///     sign; checked instead of the signature.
    ///   - body: the raw body, as signed (and the content of the repeat check).
    ///   - event: the body as the edge decoded it, or why it could not.
    /// - Returns: how the event was recorded (pending, or duplicate of one already recorded).
    /// - Throws: ``MDMError/badSignature`` when the signature is missing or wrong, or when the tenant has no MDM
    ///   connection; ``MDMError/unsignedWebhook`` when the connection has no HMAC key (nothing vouches for the
    ///   sender); ``MDMError/malformedEvent(_:)`` when a signed body is not a usable event.
    @discardableResult
    public func callAsFunction(
        tenantID: TenantID,
        signature: String?,
        pathSecret: String? = nil,
        body: [UInt8],
        event decoded: Result<MDMEvent, MalformedMDMEvent>
    ) async throws -> MDMEventState {
        let now = clock.now()
        // The id alone is not enough: an event is a repeat only when its id and its content match (the body holds
        // the id), so a forged event reusing a real id is not mistaken for the real one's repeat, nor the reverse.
        let dedupe = "sha256:" + SHA256Digest.hex(of: String(decoding: body, as: UTF8.self))
        // One unit of work: the signature is checked against the key read in it, and a refusal rolls back to nothing.
        // The background pump queues the processing job within a second (no job row per event, for bursts).
        return try await store.inTenant(tenantID) { tx in
            guard let stored = try await tx.mdmConnection() else { throw MDMError.badSignature }
            // Without a key, the tenant id in the URL would be the only credential: anyone who can reach vpp could
            // enroll devices (and give them licences) or check real ones out. Such events are refused.
            guard let sealed = stored.secrets.webhookHMACKey else { throw MDMError.unsignedWebhook }
            let key = Array(try secrets.open(sealed).utf8)
            if let pathSecret {
                // For an MDM server that cannot sign: the key itself, in the URL only vpp and the MDM server know.
                guard Self.constantTimeEqual(Array(pathSecret.utf8), key) else { throw MDMError.badSignature }
            } else {
                guard HMACSHA256.verifyBase64(signature, key: key, body: body) else { throw MDMError.badSignature }
            }
            // Only a sender holding the key learns whether its body was usable.
            let event: MDMEvent
            switch decoded {
            case .success(let value): event = value
            case .failure(let malformed): throw MDMError.malformedEvent(malformed.reason)
            }
            return try await tx.recordMDMEvent(
                MDMEventRecord(receivedAt: now, topic: event.topic, dedupeKey: dedupe, body: event.storedBody)
            )
        }
    }

    /// The key of the MDM jobs queued at `date`: one per 15-second window, so a job held by a server that died
    /// (its lease lasts minutes) delays the work by one window at most; the handlers are idempotent.
    /// Compares without stopping at the first difference, so the time taken says nothing about the key.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The largest webhook body accepted (413 beyond): NanoMDM's largest events, an InstalledApplicationList of a
    /// few hundred apps in base64, stay well under it.
    public static let maximumBodySize = 1 << 20

    public static func jobKey(at date: Date) -> JobKey { .window(date) }
}
