import Foundation

/// A device the MDM manages, known by serial number, with the apps it reports installed.
public struct Device: Hashable, Sendable, Codable {
    public let tenantID: TenantID
    public let serialNumber: SerialNumber
    public var name: String?
    /// Apps the device last reported installed (by adamId).
    public var installedAdamIDs: Set<String>
    /// Retired devices keep their row for history; their licences can be reclaimed in bulk.
    public var isRetired: Bool

    public init(tenantID: TenantID, serialNumber: SerialNumber, name: String? = nil,
                installedAdamIDs: Set<String> = [], isRetired: Bool = false) {
        self.tenantID = tenantID
        self.serialNumber = serialNumber
        self.name = name
        self.installedAdamIDs = installedAdamIDs
        self.isRetired = isRetired
    }

    public func hasInstalled(_ asset: AssetKey) -> Bool { installedAdamIDs.contains(asset.adamID) }
}
