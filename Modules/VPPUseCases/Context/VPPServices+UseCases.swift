import Foundation
import VPPDomain

// The one place that knows the composition bag: each use case takes only the ports it uses (its designated
// initialiser says what it touches); these initialisers let the edges keep writing `X(services: services)`.

extension VPPServices {
    /// Opens stored tokens' secrets with this deployment's key.
    public var tokenCredentials: TokenCredentials {
        TokenCredentials(store: store, secrets: secrets, holders: holderIdentities)
    }
    /// The tenants' audit log.
    public var auditTrail: AuditTrail { AuditTrail(store: store, clock: clock, logger: logger) }
    /// Licence pools with token status computed on this clock.
    public var poolReader: LicencePoolReader { LicencePoolReader(clock: clock) }
    /// Records what Apple's refusals say about tokens.
    public var tokenHealth: TokenHealth { TokenHealth(store: store, clock: clock, auditTrail: auditTrail) }
}

extension AssignLicences {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(
            store: services.store,
            tokenCredentials: services.tokenCredentials,
            auditTrail: services.auditTrail,
            poolReader: services.poolReader,
            intentScheduler: services.intentScheduler,
            intentWorker: CarryOutAppleIntents(services: services)
        )
        batches = services.reservationBatches
    }
}

extension RevokeLicences {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(
            store: services.store,
            clock: services.clock,
            auditTrail: services.auditTrail,
            intentWorker: CarryOutAppleIntents(services: services)
        )
    }
}

extension CarryOutAppleIntents {
    /// Wires this use case from the composition bag; the lease defaults to the deployment's `intentLease`.
    public init(services: VPPServices, leaseSeconds: TimeInterval? = nil) {
        self.init(
            store: services.store,
            clock: services.clock,
            apple: services.apple,
            logger: services.logger,
            tokenCredentials: services.tokenCredentials,
            health: services.tokenHealth,
            leaseSeconds: leaseSeconds ?? services.intentLease
        )
    }
}

extension DeliverDeviceCommands {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices, deliveries: any DeviceCommandDeliveryFactory) {
        self.init(
            store: services.store,
            clock: services.clock,
            secrets: services.secrets,
            metadata: services.metadata,
            logger: services.logger,
            deliveries: deliveries
        )
    }
}

extension AdminAccounts {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices, hasher: any PasswordHasher) {
        self.init(store: services.store, clock: services.clock, auditTrail: services.auditTrail, hasher: hasher)
    }
}

extension ConsoleSignIn {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices, hasher: any PasswordHasher, policy: SignInPolicy = SignInPolicy()) {
        self.init(
            store: services.store,
            clock: services.clock,
            auditTrail: services.auditTrail,
            hasher: hasher,
            policy: policy
        )
    }
}

extension Catalogue {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(store: services.store, tokenCredentials: services.tokenCredentials, poolReader: services.poolReader)
    }
}

extension ConfigureMDM {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(
            store: services.store,
            clock: services.clock,
            secrets: services.secrets,
            publicURL: services.publicURL,
            auditTrail: services.auditTrail,
            outbound: services.outboundPolicy
        )
    }
}

extension ConsoleLists {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(
            store: services.store,
            clock: services.clock,
            tokenCredentials: services.tokenCredentials,
            poolReader: services.poolReader
        )
    }
}

extension DeliverNotices {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(store: services.store, clock: services.clock, mailer: services.mailer)
    }
}

extension DeviceCommandList {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(store: services.store, clock: services.clock, mdmEvents: ProcessMDMEvents(services: services))
    }
}

extension HandleAppleNotification {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(
            store: services.store,
            clock: services.clock,
            secrets: services.secrets,
            events: ProcessAppleEvent(services: services)
        )
    }
}

extension ListTokens {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(store: services.store, clock: services.clock, tokenCredentials: services.tokenCredentials)
    }
}

extension ManageAPIKeys {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(store: services.store, clock: services.clock, auditTrail: services.auditTrail)
    }
}

extension ManageInventory {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(
            store: services.store,
            clock: services.clock,
            apple: services.apple,
            tokenCredentials: services.tokenCredentials,
            auditTrail: services.auditTrail
        )
    }
}

extension PlanNotices {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(store: services.store, clock: services.clock, tokenCredentials: services.tokenCredentials)
    }
}

extension ProcessAppleEvent {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(
            store: services.store,
            clock: services.clock,
            apple: services.apple,
            tokenCredentials: services.tokenCredentials
        )
    }
}

extension ProcessMDMEvents {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(store: services.store, clock: services.clock, retention: services.mdmEventRetention)
        statusRecorder = RecordDeviceStatus(services: services)
    }
}

extension ReceiveMDMWebhook {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(store: services.store, clock: services.clock, secrets: services.secrets)
    }
}

extension ReclaimUnenrolledDevices {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(
            store: services.store,
            clock: services.clock,
            auditTrail: services.auditTrail,
            revoke: RevokeLicences(services: services)
        )
    }
}

extension RemoveToken {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(
            store: services.store,
            clock: services.clock,
            apple: services.apple,
            tokenCredentials: services.tokenCredentials,
            auditTrail: services.auditTrail,
            poolReader: services.poolReader,
            assign: AssignLicences(services: services)
        )
    }
}

extension RenewToken {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(
            store: services.store,
            clock: services.clock,
            apple: services.apple,
            secrets: services.secrets,
            tokenCredentials: services.tokenCredentials,
            auditTrail: services.auditTrail
        )
    }
}

extension Reports {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(
            store: services.store,
            clock: services.clock,
            apple: services.apple,
            tokenCredentials: services.tokenCredentials,
            poolReader: services.poolReader
        )
    }
}

extension SyncToken {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(
            store: services.store,
            clock: services.clock,
            apple: services.apple,
            metadata: services.metadata,
            logger: services.logger,
            tokenCredentials: services.tokenCredentials,
            auditTrail: services.auditTrail,
            health: services.tokenHealth
        )
    }
}

extension TakeOverToken {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(
            store: services.store,
            clock: services.clock,
            apple: services.apple,
            tokenCredentials: services.tokenCredentials,
            auditTrail: services.auditTrail,
            sync: SyncToken(services: services)
        )
    }
}

extension TenantAdministration {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(store: services.store, clock: services.clock, auditTrail: services.auditTrail)
    }
}

extension UploadToken {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(
            store: services.store,
            clock: services.clock,
            apple: services.apple,
            secrets: services.secrets,
            publicURL: services.publicURL,
            tokenCredentials: services.tokenCredentials,
            auditTrail: services.auditTrail,
            sync: SyncToken(services: services)
        )
    }
}

extension RetireDevices {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(store: services.store, auditTrail: services.auditTrail, clock: services.clock)
    }
}

extension PerformJob {
    /// Wires the job kinds' use cases from the composition bag; `deliveries` reaches the tenants' MDM servers,
    /// `publishers` their DDM servers (nil: declaration-set changes stay queued).
    public init(
        services: VPPServices,
        deliveries: any DeviceCommandDeliveryFactory,
        publishers: (any DeclarationPublisherFactory)? = nil
    ) {
        self.init(
            sync: SyncToken(services: services),
            events: ProcessAppleEvent(services: services),
            planNotices: PlanNotices(services: services),
            deliverNotices: DeliverNotices(services: services),
            deliverCommands: DeliverDeviceCommands(services: services, deliveries: deliveries),
            mdmEvents: ProcessMDMEvents(services: services),
            reclaim: ReclaimUnenrolledDevices(services: services),
            reconcile: ReconcileScopes(services: services),
            logger: services.logger,
            deliverDeclarations: publishers.map { DeliverDeclarations(services: services, publishers: $0) }
        )
    }
}

extension RunDueJobs {
    /// Wires this use case from the composition bag; `deliveries` reaches the tenants' MDM servers, `publishers`
    /// their DDM servers.
    public init(
        services: VPPServices,
        deliveries: any DeviceCommandDeliveryFactory,
        publishers: (any DeclarationPublisherFactory)? = nil
    ) {
        self.init(
            store: services.store,
            clock: services.clock,
            perform: PerformJob(services: services, deliveries: deliveries, publishers: publishers),
            logger: services.logger
        )
    }
}

extension ScheduleDueWork {
    /// Wires this use case from the composition bag.
    public init(services: VPPServices, syncInterval: TimeInterval) {
        self.init(store: services.store, syncInterval: syncInterval)
    }
}

extension ScheduleMDMWork {
    /// Wires this use case from the composition bag.
    public init(services: VPPServices) { self.init(store: services.store) }
}

extension ReconcileScopes {
    /// Wires this use case from the composition bag.
    public init(services: VPPServices) {
        self.init(
            store: services.store,
            clock: services.clock,
            tokenCredentials: services.tokenCredentials,
            poolReader: services.poolReader,
            assign: AssignLicences(services: services),
            revoke: RevokeLicences(services: services),
            logger: services.logger
        )
    }
}

extension RequestReconcile {
    /// Wires this use case from the composition bag.
    public init(services: VPPServices) {
        self.init(store: services.store, clock: services.clock)
    }
}

extension ManageDesiredState {
    /// Wires this use case from the composition bag.
    public init(services: VPPServices) {
        self.init(
            store: services.store,
            clock: services.clock,
            auditTrail: services.auditTrail,
            reconcile: ReconcileScopes(services: services),
            request: RequestReconcile(services: services)
        )
    }
}

extension AppForecast {
    /// Wires this use case from the composition bag.
    public init(services: VPPServices) {
        self.init(
            store: services.store,
            clock: services.clock,
            tokenCredentials: services.tokenCredentials,
            poolReader: services.poolReader
        )
    }
}

extension IdempotentWrites {
    /// Wires this use case from the composition bag.
    public init(services: VPPServices) {
        self.init(store: services.store, clock: services.clock)
    }
}

extension ConfigureAppDelivery {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(
            store: services.store,
            clock: services.clock,
            secrets: services.secrets,
            auditTrail: services.auditTrail,
            outbound: services.outboundPolicy
        )
    }
}

extension PullDeclarationChanges {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(store: services.store, clock: services.clock)
    }
}

extension LinkUserEnrollment {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(store: services.store, auditTrail: services.auditTrail)
    }
}

extension DeliverDeclarations {
    /// Wires this use case from the composition bag; `publishers` reaches the tenants' DDM servers.
    public init(services: VPPServices, publishers: any DeclarationPublisherFactory) {
        self.init(
            store: services.store,
            clock: services.clock,
            secrets: services.secrets,
            logger: services.logger,
            publishers: publishers
        )
    }
}

extension RecordDeviceStatus {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(store: services.store, clock: services.clock, healer: HealLicenceNotFound(services: services))
    }
}

extension HealLicenceNotFound {
    /// Wires this use case from the composition bag; at most `declarationHealAttempts` heals per join.
    public init(services: VPPServices) {
        self.init(
            store: services.store,
            clock: services.clock,
            apple: services.apple,
            tokenCredentials: services.tokenCredentials,
            intentScheduler: services.intentScheduler,
            intentWorker: CarryOutAppleIntents(services: services),
            logger: services.logger
        )
        maxAttempts = services.declarationHealAttempts
    }
}

extension DeviceDetail {
    /// Wires this use case from the composition bag (the edges keep calling this).
    public init(services: VPPServices) {
        self.init(store: services.store)
    }
}
