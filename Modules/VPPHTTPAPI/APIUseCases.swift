import Foundation
import VPPDomain
import VPPUseCases

/// What the REST API's handlers call, built once by the composition root and shared by every request (no
/// handler builds a use case). Besides the use cases, the few ports the edge reads itself: the database for
/// Apple's webhook bearer and a sync's lease, the clock, and the key that opens the bearer.
public struct APIUseCases: Sendable {
    public let appForecast: AppForecast
    public let assignLicences: AssignLicences
    public let catalogue: Catalogue
    public let configureAppDelivery: ConfigureAppDelivery
    public let configureMDM: ConfigureMDM
    public let deviceCommandList: DeviceCommandList
    public let deviceDetail: DeviceDetail
    public let handleAppleNotification: HandleAppleNotification
    public let idempotentWrites: IdempotentWrites
    public let linkUserEnrollment: LinkUserEnrollment
    public let listTokens: ListTokens
    public let manageAPIKeys: ManageAPIKeys
    public let manageDesiredState: ManageDesiredState
    public let manageInventory: ManageInventory
    public let pullDeclarationChanges: PullDeclarationChanges
    public let receiveMDMWebhook: ReceiveMDMWebhook
    public let recordDeviceStatus: RecordDeviceStatus
    public let removeToken: RemoveToken
    public let renewToken: RenewToken
    public let reports: Reports
    public let revokeLicences: RevokeLicences
    public let syncToken: SyncToken
    public let takeOverToken: TakeOverToken
    public let uploadToken: UploadToken
    /// Apple's webhook looks up the token's tenant and bearer; a joined sync probes its lease.
    public let store: any Store
    /// Times the API-key cache and the token views.
    public let clock: any Clock
    /// Opens the bearer vpp gave Apple for a token.
    public let secrets: any SecretBox
    /// Apple notifications refused while the database was down (the workers poll them).
    public let missedNotifications: MissedAppleNotifications

    /// Takes the instances the composition root built once.
    public init(
        appForecast: AppForecast,
        assignLicences: AssignLicences,
        catalogue: Catalogue,
        configureAppDelivery: ConfigureAppDelivery,
        configureMDM: ConfigureMDM,
        deviceCommandList: DeviceCommandList,
        deviceDetail: DeviceDetail,
        handleAppleNotification: HandleAppleNotification,
        idempotentWrites: IdempotentWrites,
        linkUserEnrollment: LinkUserEnrollment,
        listTokens: ListTokens,
        manageAPIKeys: ManageAPIKeys,
        manageDesiredState: ManageDesiredState,
        manageInventory: ManageInventory,
        pullDeclarationChanges: PullDeclarationChanges,
        receiveMDMWebhook: ReceiveMDMWebhook,
        recordDeviceStatus: RecordDeviceStatus,
        removeToken: RemoveToken,
        renewToken: RenewToken,
        reports: Reports,
        revokeLicences: RevokeLicences,
        syncToken: SyncToken,
        takeOverToken: TakeOverToken,
        uploadToken: UploadToken,
        store: any Store,
        clock: any Clock,
        secrets: any SecretBox,
        missedNotifications: MissedAppleNotifications
    ) {
        self.appForecast = appForecast
        self.assignLicences = assignLicences
        self.catalogue = catalogue
        self.configureAppDelivery = configureAppDelivery
        self.configureMDM = configureMDM
        self.deviceCommandList = deviceCommandList
        self.deviceDetail = deviceDetail
        self.handleAppleNotification = handleAppleNotification
        self.idempotentWrites = idempotentWrites
        self.linkUserEnrollment = linkUserEnrollment
        self.listTokens = listTokens
        self.manageAPIKeys = manageAPIKeys
        self.manageDesiredState = manageDesiredState
        self.manageInventory = manageInventory
        self.pullDeclarationChanges = pullDeclarationChanges
        self.receiveMDMWebhook = receiveMDMWebhook
        self.recordDeviceStatus = recordDeviceStatus
        self.removeToken = removeToken
        self.renewToken = renewToken
        self.reports = reports
        self.revokeLicences = revokeLicences
        self.syncToken = syncToken
        self.takeOverToken = takeOverToken
        self.uploadToken = uploadToken
        self.store = store
        self.clock = clock
        self.secrets = secrets
        self.missedNotifications = missedNotifications
    }
}
