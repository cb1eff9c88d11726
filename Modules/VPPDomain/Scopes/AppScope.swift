import Foundation

/// How licences granted by a scope reach the device.
public enum ScopeDeliveryMode: String, Hashable, Sendable, Codable, CaseIterable {
    /// The licence, then the tenant's default delivery: an InstallApplication through its MDM connection, or the
    /// declaration when the tenant delivers by declarations.
    case install
    /// The licence only: the MDM (or the user) installs.
    case licenceOnly
    /// The licence, then the device's enrollment joins the app's `com.apple.configuration.app.managed` declaration
    /// set (never an InstallApplication for it).
    case declaration
}

/// Which devices and users *should* hold one app: vpp keeps Apple's licences equal to it.
public struct AppScope: Hashable, Sendable {
    public static let defaultRemovalGraceSeconds = 86_400

    public let name: ScopeName
    public var asset: AssetKey
    public var groups: [GroupName]
    public var serialNumbers: [SerialNumber]
    public var clientUserIDs: [ClientUserID]
    /// Higher first, when the pool cannot serve everyone.
    public var priority: Int
    /// How long a device or user that left keeps its licence (a device moving between groups never loses it).
    public var removalGraceSeconds: Int
    /// Whether a device whose licence is revoked on leaving gets a RemoveApplication.
    public var uninstallOnRemoval: Bool
    public var mode: ScopeDeliveryMode
    /// What the app's declaration says (`Install`, `Version`, `UpdateBehavior`) when this scope decides it
    /// (see ``DeclarationTerms/forApp(_:scopes:)``).
    public var declaration: DeclarationTerms

    public init(
        name: ScopeName,
        asset: AssetKey,
        groups: [GroupName] = [],
        serialNumbers: [SerialNumber] = [],
        clientUserIDs: [ClientUserID] = [],
        priority: Int = 0,
        removalGraceSeconds: Int = AppScope.defaultRemovalGraceSeconds,
        uninstallOnRemoval: Bool = true,
        mode: ScopeDeliveryMode = .install,
        declaration: DeclarationTerms = .standard
    ) throws(DesiredStateError) {
        guard (-1_000_000...1_000_000).contains(priority) else { throw .invalidPriority(priority) }
        guard (0...31_536_000).contains(removalGraceSeconds) else { throw .invalidGrace(removalGraceSeconds) }
        guard !groups.isEmpty || !serialNumbers.isEmpty || !clientUserIDs.isEmpty else {
            throw .emptyScope(name.value)
        }
        self.name = name
        self.asset = asset
        self.groups = Array(Set(groups)).sorted()
        self.serialNumbers = Array(Set(serialNumbers)).sorted()
        self.clientUserIDs = Array(Set(clientUserIDs)).sorted { $0.value < $1.value }
        self.priority = priority
        self.removalGraceSeconds = removalGraceSeconds
        self.uninstallOnRemoval = uninstallOnRemoval
        self.mode = mode
        self.declaration = declaration
    }
}
