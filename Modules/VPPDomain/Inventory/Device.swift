import Foundation

/// Whether the MDM server manages a device, as its check-ins tell vpp.
public enum EnrollmentState: String, Hashable, Sendable, Codable, CaseIterable {
    /// Added by an admin (serial number only); the MDM server has not told vpp about it.
    case manual
    /// The device authenticated with the MDM server; the enrollment has not completed yet.
    case enrolling
    /// The MDM enrollment completed (`TokenUpdate` with tally 1) and the device has not left since.
    case enrolled
    /// The device checked out, or fell silent for longer than the tenant allows.
    case unenrolled
}

/// The platform an MDM command is shaped for (Apple's schema gives keys such as `ManagementFlags` and
/// `InstallAsManaged` per platform).
public enum DevicePlatform: String, Hashable, Sendable, Codable, CaseIterable {
    case iOS, macOS

    /// Guessed from Authenticate's `ProductName`/`Model` (e.g. `iPad13,4`, `MacBookPro18,1`, `Mac14,2`, and
    /// `VirtualMac2,1`, a macOS virtual machine on Apple silicon).
    public static func from(productName: String?) -> DevicePlatform {
        guard let name = productName?.lowercased() else { return .iOS }
        let macPrefixes = ["mac", "imac", "virtualmac", "vmware"]
        return macPrefixes.contains(where: name.hasPrefix) ? .macOS : .iOS
    }
}

/// What the MDM server told vpp about a device's enrollment.
public struct MDMEnrollment: Hashable, Sendable, Codable {
    public var state: EnrollmentState
    /// The MDM enrollment id (the UDID for a device channel); commands are addressed to it.
    public var enrollmentID: String?
    public var model: String?
    public var osVersion: String?
    public var platform: DevicePlatform
    public var lastSeenAt: Date?
    /// When the device left MDM (CheckOut or silence); nil while enrolled.
    public var unenrolledAt: Date?

    public init(
        state: EnrollmentState = .manual,
        enrollmentID: String? = nil,
        model: String? = nil,
        osVersion: String? = nil,
        platform: DevicePlatform = .iOS,
        lastSeenAt: Date? = nil,
        unenrolledAt: Date? = nil
    ) {
        self.state = state
        self.enrollmentID = enrollmentID
        self.model = model
        self.osVersion = osVersion
        self.platform = platform
        self.lastSeenAt = lastSeenAt
        self.unenrolledAt = unenrolledAt
    }
}

/// A device the MDM manages, known by serial number, with the apps it reports installed.
public struct Device: Hashable, Sendable, Codable {
    public let tenantID: TenantID
    public let serialNumber: SerialNumber
    public var name: String?
    /// Apps the device last reported installed (by adamId).
    public var installedAdamIDs: Set<String>
    /// Retired devices keep their row for history; their licences can be reclaimed in bulk.
    public var isRetired: Bool
    /// What the MDM server reported (enrollment, UDID, model, OS, last check-in).
    public var enrollment: MDMEnrollment

    public init(
        tenantID: TenantID,
        serialNumber: SerialNumber,
        name: String? = nil,
        installedAdamIDs: Set<String> = [],
        isRetired: Bool = false,
        enrollment: MDMEnrollment = MDMEnrollment()
    ) {
        self.tenantID = tenantID
        self.serialNumber = serialNumber
        self.name = name
        self.installedAdamIDs = installedAdamIDs
        self.isRetired = isRetired
        self.enrollment = enrollment
    }

    public func hasInstalled(_ asset: AssetKey) -> Bool { installedAdamIDs.contains(asset.adamID) }
}
