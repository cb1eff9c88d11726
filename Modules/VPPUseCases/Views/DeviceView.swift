import Foundation
import VPPDomain

/// A device as the CLI's `--json` and the REST API show it.
public struct DeviceView: Encodable, Sendable, Hashable {
    public let serialNumber: String
    public let name: String?
    public let installedAdamIds: [String]
    public let retired: Bool
    /// manual, enrolling, enrolled or unenrolled (from the MDM server's webhook).
    public let enrollment: String
    /// The MDM enrollment id (UDID) commands are addressed to.
    public let udid: String?
    public let model: String?
    public let osVersion: String?
    /// ISO 8601.
    public let lastSeenAt: String?

    public init(_ device: Device) {
        serialNumber = device.serialNumber.value
        name = device.name
        installedAdamIds = device.installedAdamIDs.sorted()
        retired = device.isRetired
        enrollment = device.enrollment.state.rawValue
        udid = device.enrollment.enrollmentID
        model = device.enrollment.model
        osVersion = device.enrollment.osVersion
        lastSeenAt = device.enrollment.lastSeenAt.map(ISO8601Timestamp.format)
    }
}
