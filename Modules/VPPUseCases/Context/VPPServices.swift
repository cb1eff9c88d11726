import Foundation
import Logging
import VPPDomain

/// The composition bag the edges (HTTP, console, CLI, vppd) hold: every port, built once by the composition
/// root. Use cases never see it; each takes only the ports it uses, and `VPPServices+UseCases.swift` wires
/// them from this bag so the edges can keep writing `X(services: services)`.
public struct VPPServices: Sendable {
    public let store: any Store
    public let apple: any AppleAppsAndBooks
    public let metadata: (any AppMetadataLookup)?
    public let secrets: any SecretBox
    public let clock: any Clock
    public let mailer: (any Mailer)?
    /// vppd's public base URL; Apple's notifications go to `<publicURL>/apple/notifications/<tokenId>`.
    public let publicURL: String?
    public let logger: Logger
    /// How long a worker's claim on the ledger's queued Apple writes lasts (see ``CarryOutAppleIntents``).
    public var intentLease: TimeInterval = 60
    /// Which URLs vpp may call out to (`VPP_OUTBOUND_ALLOW`): https to public addresses unless a host is named.
    public var outboundPolicy: OutboundPolicy = .strict
    /// How long processed MDM webhook events are kept (`VPP_MDM_EVENT_RETENTION`); a repeat of an event within
    /// this period is answered as a duplicate and not stored again.
    public var mdmEventRetention: TimeInterval = 7 * 86_400
    /// How often vpp heals a device's `Error.LicenseNotFound` for one licence (ask Apple, re-associate, re-publish)
    /// before the install shows failed (`VPP_DECLARATION_HEAL_ATTEMPTS`).
    public var declarationHealAttempts = 3
    /// Where queued Apple intents are handed for background work, in a server that has one.
    public var intentScheduler: (any IntentScheduler)?
    /// Tenants' identities at Apple, shared by every use case built from this bag (see ``TenantHolderCache``).
    public let holderIdentities = TenantHolderCache()
    /// Small licence reservations of one app that arrive together share a transaction (see ``ReservationBatches``).
    public var reservationBatches = ReservationBatches()
    /// Apple notifications refused while the database was down, polled as soon as it answers again.
    public let missedNotifications = MissedAppleNotifications()

    public init(
        store: any Store,
        apple: any AppleAppsAndBooks,
        metadata: (any AppMetadataLookup)?,
        secrets: any SecretBox,
        clock: any Clock,
        mailer: (any Mailer)?,
        publicURL: String?,
        logger: Logger
    ) {
        self.store = store
        self.apple = apple
        self.metadata = metadata
        self.secrets = secrets
        self.clock = clock
        self.mailer = mailer
        self.publicURL = publicURL
        self.logger = logger
    }
}
