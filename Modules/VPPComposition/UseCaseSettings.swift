import Foundation
import VPPDomain

/// The deployment's settings that shape use cases, read once from ``VPPConfiguration`` and handed to the use
/// cases' initialisers by ``UseCases`` (no use case is tuned after it is built).
public struct UseCaseSettings: Sendable {
    /// vppd's public base URL; Apple's notifications go to `<publicURL>/apple/notifications/<tokenId>`.
    public var publicURL: String?
    /// How long a worker's claim on the ledger's queued Apple writes lasts (`VPP_INTENT_LEASE_SECONDS`).
    public var intentLease: TimeInterval = 60
    /// Which URLs vpp may call out to (`VPP_OUTBOUND_ALLOW`): https to public addresses unless a host is named.
    public var outboundPolicy: OutboundPolicy = .strict
    /// How long processed MDM webhook events are kept (`VPP_MDM_EVENT_RETENTION`); a repeat of an event within
    /// this period is answered as a duplicate and not stored again.
    public var mdmEventRetention: TimeInterval = 7 * 86_400
    /// How often vpp heals a device's `Error.LicenseNotFound` for one licence before the install shows failed
    /// (`VPP_DECLARATION_HEAL_ATTEMPTS`).
    public var declarationHealAttempts = 3
    /// Seconds between reads of an unsettled enrollment's declarative status at KMFDDM
    /// (`VPP_DECLARATION_STATUS_POLL_SECONDS`).
    public var declarationStatusPollInterval: TimeInterval = 60
    /// At most this many small reservations of one app share a transaction (`VPP_RESERVATION_BATCH`).
    public var reservationBatch = 64
    /// Seconds between scheduled syncs of each token (`VPP_SYNC_INTERVAL`).
    public var syncInterval: TimeInterval = 21_600
    /// Scope changes are reconciled before the call returns instead of by the background workers (the CLI,
    /// which has none).
    public var reconcilesInline = false

    /// The defaults (the tests' starting point).
    public init() {}

    /// The settings `configuration` names.
    public init(_ configuration: VPPConfiguration) {
        publicURL = configuration.publicURL
        intentLease = configuration.intentLease
        outboundPolicy = OutboundPolicy(allowList: configuration.outboundAllow)
        mdmEventRetention = configuration.mdmEventRetention
        declarationHealAttempts = configuration.declarationHealAttempts
        declarationStatusPollInterval = configuration.declarationStatusPollInterval
        reservationBatch = configuration.reservationBatch
        syncInterval = configuration.syncInterval
    }
}
