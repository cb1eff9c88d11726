import Foundation

/// The operating system family of a device, from the model its MDM enrollment reported.
public enum DeviceOSFamily: String, Hashable, Sendable, Codable, CaseIterable {
    case iOS, iPadOS, macOS, tvOS, visionOS

    /// From an Authenticate `Model`/`ProductName` such as `iPad13,4`, `iPhone15,2`, `AppleTV14,1`,
    /// `RealityDevice14,1`, `Mac14,2` or `VirtualMac2,1`; nil when the model is unknown.
    public static func from(model: String?, platform: DevicePlatform) -> DeviceOSFamily? {
        guard let model = model?.lowercased(), !model.isEmpty else { return platform == .macOS ? .macOS : nil }
        if model.hasPrefix("ipad") { return .iPadOS }
        if model.hasPrefix("iphone") || model.hasPrefix("ipod") { return .iOS }
        if model.hasPrefix("appletv") { return .tvOS }
        if model.hasPrefix("realitydevice") { return .visionOS }
        if model.hasPrefix("mac") || model.hasPrefix("imac") || model.hasPrefix("virtualmac") { return .macOS }
        return platform == .macOS ? .macOS : nil
    }
}

/// A group whose members follow the MDM's enrollments: every enrolled device, optionally only some
/// platforms or models.
public struct DynamicMembership: Hashable, Sendable, Codable {
    public var platforms: Set<DeviceOSFamily>
    public var modelPrefix: String?

    public init(platforms: Set<DeviceOSFamily> = [], modelPrefix: String? = nil) throws(DesiredStateError) {
        if let modelPrefix {
            guard (1...32).contains(modelPrefix.count),
                modelPrefix.unicodeScalars.allSatisfy({
                    $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ",-".unicodeScalars.contains($0))
                })
            else { throw .invalidModelPrefix(modelPrefix) }
        }
        self.platforms = platforms
        self.modelPrefix = modelPrefix
    }

    /// Whether an enrolled, not retired device belongs.
    public func includes(_ device: Device) -> Bool {
        guard device.enrollment.state == .enrolled, !device.isRetired else { return false }
        if !platforms.isEmpty {
            guard
                let family = DeviceOSFamily.from(model: device.enrollment.model, platform: device.enrollment.platform),
                platforms.contains(family)
            else { return false }
        }
        if let modelPrefix {
            guard device.enrollment.model?.lowercased().hasPrefix(modelPrefix.lowercased()) == true else {
                return false
            }
        }
        return true
    }
}

/// A named set of devices and users of one tenant: members written by the MDM or an admin, or dynamic.
public struct DeviceGroup: Hashable, Sendable {
    public let name: GroupName
    /// nil: the members are the ones written; otherwise the group follows enrollments.
    public var dynamic: DynamicMembership?

    public init(name: GroupName, dynamic: DynamicMembership? = nil) {
        self.name = name
        self.dynamic = dynamic
    }
}
