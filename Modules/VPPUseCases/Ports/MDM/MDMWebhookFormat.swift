import Foundation

/// The MDM server's webhook wire format (MicroMDM-compatible JSON), decoded at the HTTP edge into an ``MDMEvent``.
/// ``ProcessMDMEvents`` uses it only for events recorded as received, before the edge decoded them.
public protocol MDMWebhookFormat: Sendable {
    /// The event the body carries, or why it is not usable (naming the field).
    func event(from body: [UInt8]) throws(MalformedMDMEvent) -> MDMEvent
}
