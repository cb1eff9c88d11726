import Foundation

/// What a background job does. Stored by its raw value; a stored value this build does not know is an
/// error when the job is claimed, never a silent default.
public enum JobKind: String, Hashable, Sendable, CaseIterable {
    /// Sync one token with Apple (key: the token id).
    case sync
    /// Poll Apple's pending events of a tenant.
    case pollEvents = "poll-events"
    /// Plan and send expiry and health notices.
    case notices
    /// Deliver queued device commands to the tenant's MDM server.
    case deliverCommands = "deliver-commands"
    /// Process recorded MDM webhook events.
    case mdmEvents = "mdm-events"
    /// Reclaim licences of devices that left MDM after the grace period.
    case reclaimUnenrolled = "reclaim-unenrolled"
    /// Reconcile the tenant's app scopes with the ledger (key: the second it was due).
    case reconcileScopes = "reconcile-scopes"
}
