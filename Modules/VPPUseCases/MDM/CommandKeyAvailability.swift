import VPPDomain

/// Where Apple's schema (apple/device-management `mdm/commands/*.yaml`, `supportedOS`) says a command or one of
/// its keys exists: the first version per platform, nil where it is `n/a`. A key without its own entry for a
/// platform inherits the command's, as the schema's convention is.
struct CommandKeyAvailability: Sendable {
    let iOS: OSVersion?
    let macOS: OSVersion?

    /// Whether a device on `platform` at `version` knows the key. An unknown version counts as current: the
    /// key is left out only where the platform never had it, or the device said it runs an older OS.
    func isAvailable(on platform: DevicePlatform, version: OSVersion?) -> Bool {
        guard let introduced = platform == .macOS ? macOS : iOS else { return false }
        guard let version else { return true }
        return version >= introduced
    }

    // InstallApplication (`application.install.yaml`): the command is iOS 5.0, macOS 10.9.
    static let installApplication = Self(iOS: OSVersion(5), macOS: OSVersion(10, 9))
    /// `Options` lists iOS 7.0 only; macOS inherits the command's 10.9.
    static let options = Self(iOS: OSVersion(7), macOS: OSVersion(10, 9))
    /// `ManagementFlags` (1, 4 or 5): iOS inherits 5.0; macOS 11.0.
    static let managementFlags = Self(iOS: OSVersion(5), macOS: OSVersion(11))
    /// `ChangeManagementState` (`Managed`): iOS 9.0, macOS 11.0.
    static let changeManagementState = Self(iOS: OSVersion(9), macOS: OSVersion(11))
    /// `InstallAsManaged`: macOS 11.0 only (iOS and tvOS `n/a`).
    static let installAsManaged = Self(iOS: nil, macOS: OSVersion(11))

    // RemoveApplication (`application.remove.yaml`): iOS 5.0, macOS 11.0.
    static let removeApplication = Self(iOS: OSVersion(5), macOS: OSVersion(11))

    // InstalledApplicationList (`application.installed.list.yaml`): iOS 5.0, macOS 10.7.
    static let installedApplicationList = Self(iOS: OSVersion(5), macOS: OSVersion(10, 7))
    /// `ManagedAppsOnly`: iOS 7.0, macOS 10.15.
    static let managedAppsOnly = Self(iOS: OSVersion(7), macOS: OSVersion(10, 15))
}
