import Foundation
import VPPDomain
import VPPUseCases

/// What the console's pages call, built once by the composition root and shared by every request (no page
/// builds a use case).
public struct ConsoleUseCases: Sendable {
    public let appForecast: AppForecast
    public let assignLicences: AssignLicences
    public let catalogue: Catalogue
    public let configureMDM: ConfigureMDM
    public let consoleLists: ConsoleLists
    public let consoleSignIn: ConsoleSignIn
    public let deviceDetail: DeviceDetail
    public let listTokens: ListTokens
    public let manageDesiredState: ManageDesiredState
    public let manageInventory: ManageInventory
    public let removeToken: RemoveToken
    public let renewToken: RenewToken
    public let reports: Reports
    public let revokeLicences: RevokeLicences
    public let syncToken: SyncToken
    public let takeOverToken: TakeOverToken
    public let uploadToken: UploadToken
    /// Times the session cookie.
    public let clock: any Clock

    /// Takes the instances the composition root built once.
    public init(
        appForecast: AppForecast,
        assignLicences: AssignLicences,
        catalogue: Catalogue,
        configureMDM: ConfigureMDM,
        consoleLists: ConsoleLists,
        consoleSignIn: ConsoleSignIn,
        deviceDetail: DeviceDetail,
        listTokens: ListTokens,
        manageDesiredState: ManageDesiredState,
        manageInventory: ManageInventory,
        removeToken: RemoveToken,
        renewToken: RenewToken,
        reports: Reports,
        revokeLicences: RevokeLicences,
        syncToken: SyncToken,
        takeOverToken: TakeOverToken,
        uploadToken: UploadToken,
        clock: any Clock
    ) {
        self.appForecast = appForecast
        self.assignLicences = assignLicences
        self.catalogue = catalogue
        self.configureMDM = configureMDM
        self.consoleLists = consoleLists
        self.consoleSignIn = consoleSignIn
        self.deviceDetail = deviceDetail
        self.listTokens = listTokens
        self.manageDesiredState = manageDesiredState
        self.manageInventory = manageInventory
        self.removeToken = removeToken
        self.renewToken = renewToken
        self.reports = reports
        self.revokeLicences = revokeLicences
        self.syncToken = syncToken
        self.takeOverToken = takeOverToken
        self.uploadToken = uploadToken
        self.clock = clock
    }
}
