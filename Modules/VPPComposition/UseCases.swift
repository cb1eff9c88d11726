import Foundation
import VPPConsole
import VPPDomain
import VPPHTTPAPI
import VPPUseCases

/// Every use case vpp runs, built once from the ports by the composition root (as hummingbird-examples builds
/// its controllers in `buildApplication`): settings reach them through their initialisers, and the edges are
/// handed instances (``api`` for the REST API, ``console`` for the console; vppd's workers and vppctl's
/// commands read the properties they use). Nothing builds a use case per request.
///
/// One server's pieces of shared state live here too, one instance each: the tenants' Apple identities
/// (``TokenCredentials``), the reservation batches and the notifications missed while the database was down.
public struct UseCases: Sendable {
    /// The ports these use cases were built from (the apps read the store and the clock directly).
    public let ports: VPPPorts
    // Shared pieces the use cases below are built from.
    public let tokenCredentials: TokenCredentials
    public let auditTrail: AuditTrail
    public let tokenHealth: TokenHealth
    public let reservationBatches: ReservationBatches
    public let missedNotifications: MissedAppleNotifications

    // Tokens, licences and Apple.
    public let uploadToken: UploadToken
    public let listTokens: ListTokens
    public let syncToken: SyncToken
    public let renewToken: RenewToken
    public let takeOverToken: TakeOverToken
    public let removeToken: RemoveToken
    public let assignLicences: AssignLicences
    public let revokeLicences: RevokeLicences
    public let carryOutAppleIntents: CarryOutAppleIntents
    public let processAppleEvent: ProcessAppleEvent
    public let handleAppleNotification: HandleAppleNotification

    // Reading.
    public let catalogue: Catalogue
    public let consoleLists: ConsoleLists
    public let reports: Reports
    public let deviceDetail: DeviceDetail
    public let appForecast: AppForecast

    // Inventory, tenants and access.
    public let manageInventory: ManageInventory
    public let retireDevices: RetireDevices
    public let tenantAdministration: TenantAdministration
    public let manageAPIKeys: ManageAPIKeys
    public let idempotentWrites: IdempotentWrites
    public let adminAccounts: AdminAccounts
    public let consoleSignIn: ConsoleSignIn

    // MDM and declarations.
    public let configureMDM: ConfigureMDM
    public let configureAppDelivery: ConfigureAppDelivery
    public let pullDeclarationChanges: PullDeclarationChanges
    public let linkUserEnrollment: LinkUserEnrollment
    public let receiveMDMWebhook: ReceiveMDMWebhook
    public let processMDMEvents: ProcessMDMEvents
    public let deviceCommandList: DeviceCommandList
    public let recordDeviceStatus: RecordDeviceStatus
    public let healLicenceNotFound: HealLicenceNotFound
    public let deliverDeviceCommands: DeliverDeviceCommands
    public let deliverDeclarations: DeliverDeclarations?
    /// Reads devices' declarative status back from KMFDDM (nil: no reader wired).
    public let pollDeclarationStatus: PollDeclarationStatus?
    public let reclaimUnenrolledDevices: ReclaimUnenrolledDevices

    // Scopes.
    public let manageDesiredState: ManageDesiredState
    public let reconcileScopes: ReconcileScopes
    public let requestReconcile: RequestReconcile

    // Notices and the background work.
    public let planNotices: PlanNotices
    public let deliverNotices: DeliverNotices
    public let scheduleDueWork: ScheduleDueWork
    public let scheduleMDMWork: ScheduleMDMWork
    public let runDueJobs: RunDueJobs

    /// Builds every use case once.
    /// - Parameters:
    ///   - deliveries: reaches the tenants' MDM servers; nil: ``MDMDeliveries`` under the outbound policy, which
    ///     also publishes declarations. Given, declarations are published by `publishers` only.
    ///   - statusReaders: reads devices' status back from KMFDDM when `deliveries` is given (nil: not read);
    ///     otherwise ``MDMDeliveries``.
    ///   - hasher: the console's password hasher (bcrypt; tests pass a low cost).
    ///   - signInPolicy: the console's sign-in throttle.
    ///   - intentScheduler: where requests hand their queued Apple intents (vppd's pump, made from the use case
    ///     that sends them); nil: requests send them inline. The background jobs send them inline either way.
    public init(
        ports: VPPPorts,
        settings: UseCaseSettings = UseCaseSettings(),
        deliveries: (any DeviceCommandDeliveryFactory)? = nil,
        publishers: (any DeclarationPublisherFactory)? = nil,
        statusReaders: (any DeclarationStatusReaderFactory)? = nil,
        hasher: any PasswordHasher = BcryptPasswordHasher(),
        signInPolicy: SignInPolicy = SignInPolicy(),
        intentScheduler: (CarryOutAppleIntents) -> (any IntentScheduler)? = { _ in nil }
    ) {
        let (store, clock, apple, secrets, logger) = (
            ports.store, ports.clock, ports.apple, ports.secrets, ports.logger
        )
        let credentials = TokenCredentials(store: store, secrets: secrets, holders: TenantHolderCache())
        let audit = AuditTrail(store: store, clock: clock, logger: logger)
        let pools = LicencePoolReader(clock: clock)
        let health = TokenHealth(store: store, clock: clock, auditTrail: audit)
        let batches = ReservationBatches(capacity: settings.reservationBatch)
        let intents = CarryOutAppleIntents(
            store: store,
            clock: clock,
            apple: apple,
            logger: logger,
            tokenCredentials: credentials,
            health: health,
            leaseSeconds: settings.intentLease
        )
        let scheduler = intentScheduler(intents)
        self.ports = ports
        tokenCredentials = credentials
        auditTrail = audit
        tokenHealth = health
        reservationBatches = batches
        missedNotifications = MissedAppleNotifications()
        carryOutAppleIntents = intents

        // Requests hand intents to the scheduler; the background jobs (PerformJob) send them inline.
        func assign(_ scheduler: (any IntentScheduler)?) -> AssignLicences {
            AssignLicences(
                store: store,
                tokenCredentials: credentials,
                auditTrail: audit,
                poolReader: pools,
                intentScheduler: scheduler,
                intentWorker: intents,
                batches: batches
            )
        }
        let revoke = RevokeLicences(store: store, clock: clock, auditTrail: audit, intentWorker: intents)
        func reconcile(_ scheduler: (any IntentScheduler)?) -> ReconcileScopes {
            ReconcileScopes(
                store: store,
                clock: clock,
                tokenCredentials: credentials,
                poolReader: pools,
                assign: assign(scheduler),
                revoke: revoke,
                logger: logger
            )
        }
        func heal(_ scheduler: (any IntentScheduler)?) -> HealLicenceNotFound {
            HealLicenceNotFound(
                store: store,
                clock: clock,
                apple: apple,
                tokenCredentials: credentials,
                intentScheduler: scheduler,
                intentWorker: intents,
                logger: logger,
                maxAttempts: settings.declarationHealAttempts
            )
        }
        func record(_ scheduler: (any IntentScheduler)?) -> RecordDeviceStatus {
            RecordDeviceStatus(store: store, clock: clock, healer: heal(scheduler))
        }
        func mdmEvents(_ scheduler: (any IntentScheduler)?) -> ProcessMDMEvents {
            ProcessMDMEvents(
                store: store,
                clock: clock,
                retention: settings.mdmEventRetention,
                statusRecorder: record(scheduler),
                receivedForm: MicroMDMWebhookFormat()
            )
        }
        let sync = SyncToken(
            store: store,
            clock: clock,
            apple: apple,
            metadata: ports.metadata,
            logger: logger,
            tokenCredentials: credentials,
            auditTrail: audit,
            health: health
        )
        let events = ProcessAppleEvent(store: store, clock: clock, apple: apple, tokenCredentials: credentials)
        let request = RequestReconcile(store: store, clock: clock)

        assignLicences = assign(scheduler)
        revokeLicences = revoke
        syncToken = sync
        processAppleEvent = events
        uploadToken = UploadToken(
            store: store,
            clock: clock,
            apple: apple,
            secrets: secrets,
            publicURL: settings.publicURL,
            tokenCredentials: credentials,
            auditTrail: audit,
            sync: sync
        )
        listTokens = ListTokens(store: store, clock: clock, tokenCredentials: credentials)
        renewToken = RenewToken(
            store: store,
            clock: clock,
            apple: apple,
            secrets: secrets,
            tokenCredentials: credentials,
            auditTrail: audit
        )
        takeOverToken = TakeOverToken(
            store: store,
            clock: clock,
            apple: apple,
            tokenCredentials: credentials,
            auditTrail: audit,
            sync: sync
        )
        removeToken = RemoveToken(
            store: store,
            clock: clock,
            apple: apple,
            tokenCredentials: credentials,
            auditTrail: audit,
            poolReader: pools,
            assign: assignLicences
        )
        handleAppleNotification = HandleAppleNotification(store: store, clock: clock, secrets: secrets, events: events)

        catalogue = Catalogue(store: store, tokenCredentials: credentials, poolReader: pools)
        consoleLists = ConsoleLists(store: store, clock: clock, tokenCredentials: credentials, poolReader: pools)
        reports = Reports(store: store, clock: clock, apple: apple, tokenCredentials: credentials, poolReader: pools)
        deviceDetail = DeviceDetail(store: store)
        appForecast = AppForecast(store: store, clock: clock, tokenCredentials: credentials, poolReader: pools)

        manageInventory = ManageInventory(
            store: store,
            clock: clock,
            apple: apple,
            tokenCredentials: credentials,
            auditTrail: audit
        )
        retireDevices = RetireDevices(store: store, auditTrail: audit, clock: clock)
        tenantAdministration = TenantAdministration(store: store, clock: clock, auditTrail: audit)
        manageAPIKeys = ManageAPIKeys(store: store, clock: clock, auditTrail: audit)
        idempotentWrites = IdempotentWrites(store: store, clock: clock)
        adminAccounts = AdminAccounts(store: store, clock: clock, auditTrail: audit, hasher: hasher)
        consoleSignIn = ConsoleSignIn(
            store: store,
            clock: clock,
            auditTrail: audit,
            hasher: hasher,
            policy: signInPolicy
        )

        configureMDM = ConfigureMDM(
            store: store,
            clock: clock,
            secrets: secrets,
            publicURL: settings.publicURL,
            auditTrail: audit,
            outbound: settings.outboundPolicy
        )
        configureAppDelivery = ConfigureAppDelivery(
            store: store,
            clock: clock,
            secrets: secrets,
            auditTrail: audit,
            outbound: settings.outboundPolicy
        )
        pullDeclarationChanges = PullDeclarationChanges(store: store, clock: clock)
        linkUserEnrollment = LinkUserEnrollment(store: store, auditTrail: audit)
        receiveMDMWebhook = ReceiveMDMWebhook(store: store, clock: clock, secrets: secrets)
        processMDMEvents = mdmEvents(scheduler)
        deviceCommandList = DeviceCommandList(store: store, clock: clock, mdmEvents: processMDMEvents)
        recordDeviceStatus = record(scheduler)
        healLicenceNotFound = heal(scheduler)
        let production = MDMDeliveries(policy: settings.outboundPolicy)
        let commandDeliveries = deliveries ?? production
        let declarationPublishers = deliveries == nil ? production : publishers
        deliverDeviceCommands = DeliverDeviceCommands(
            store: store,
            clock: clock,
            secrets: secrets,
            metadata: ports.metadata,
            logger: logger,
            deliveries: commandDeliveries
        )
        deliverDeclarations = declarationPublishers.map {
            DeliverDeclarations(store: store, clock: clock, secrets: secrets, logger: logger, publishers: $0)
        }
        pollDeclarationStatus = (deliveries == nil ? production : statusReaders).map {
            PollDeclarationStatus(
                store: store,
                clock: clock,
                secrets: secrets,
                logger: logger,
                readers: $0,
                record: record(nil),
                interval: settings.declarationStatusPollInterval
            )
        }
        reclaimUnenrolledDevices = ReclaimUnenrolledDevices(
            store: store,
            clock: clock,
            auditTrail: audit,
            revoke: revoke
        )

        reconcileScopes = reconcile(scheduler)
        requestReconcile = request
        manageDesiredState = ManageDesiredState(
            store: store,
            clock: clock,
            auditTrail: audit,
            reconcile: reconcileScopes,
            request: request,
            reconcilesInline: settings.reconcilesInline
        )

        planNotices = PlanNotices(store: store, clock: clock, tokenCredentials: credentials)
        deliverNotices = DeliverNotices(store: store, clock: clock, mailer: ports.mailer)
        scheduleDueWork = ScheduleDueWork(store: store, syncInterval: settings.syncInterval)
        scheduleMDMWork = ScheduleMDMWork(store: store)
        runDueJobs = RunDueJobs(
            store: store,
            clock: clock,
            perform: PerformJob(
                sync: sync,
                events: events,
                planNotices: planNotices,
                deliverNotices: deliverNotices,
                deliverCommands: deliverDeviceCommands,
                mdmEvents: mdmEvents(nil),
                reclaim: reclaimUnenrolledDevices,
                reconcile: reconcile(nil),
                logger: logger,
                deliverDeclarations: deliverDeclarations,
                pollDeclarationStatus: pollDeclarationStatus
            ),
            logger: logger
        )
    }

    /// What the REST API's handlers call (the same instances).
    public var api: APIUseCases {
        APIUseCases(
            appForecast: appForecast,
            assignLicences: assignLicences,
            catalogue: catalogue,
            configureAppDelivery: configureAppDelivery,
            configureMDM: configureMDM,
            deviceCommandList: deviceCommandList,
            deviceDetail: deviceDetail,
            handleAppleNotification: handleAppleNotification,
            idempotentWrites: idempotentWrites,
            linkUserEnrollment: linkUserEnrollment,
            listTokens: listTokens,
            manageAPIKeys: manageAPIKeys,
            manageDesiredState: manageDesiredState,
            manageInventory: manageInventory,
            pullDeclarationChanges: pullDeclarationChanges,
            receiveMDMWebhook: receiveMDMWebhook,
            recordDeviceStatus: recordDeviceStatus,
            removeToken: removeToken,
            renewToken: renewToken,
            reports: reports,
            revokeLicences: revokeLicences,
            syncToken: syncToken,
            takeOverToken: takeOverToken,
            uploadToken: uploadToken,
            store: ports.store,
            clock: ports.clock,
            secrets: ports.secrets,
            missedNotifications: missedNotifications
        )
    }

    /// What the console's pages call (the same instances).
    public var console: ConsoleUseCases {
        ConsoleUseCases(
            appForecast: appForecast,
            assignLicences: assignLicences,
            catalogue: catalogue,
            configureMDM: configureMDM,
            consoleLists: consoleLists,
            consoleSignIn: consoleSignIn,
            deviceDetail: deviceDetail,
            listTokens: listTokens,
            manageDesiredState: manageDesiredState,
            manageInventory: manageInventory,
            removeToken: removeToken,
            renewToken: renewToken,
            reports: reports,
            revokeLicences: revokeLicences,
            syncToken: syncToken,
            takeOverToken: takeOverToken,
            uploadToken: uploadToken,
            clock: ports.clock
        )
    }
}
