import Foundation
import VPPDomain

/// Apple MDM command plists (apple/device-management `mdm/commands/`), written as XML by hand so the
/// key types are exact: `iTunesStoreID` and `PurchaseMethod` integers, `InstallAsManaged` a boolean. Only keys
/// the device's platform and reported OS version know are written (``CommandKeyAvailability``): a device that
/// meets a key it does not know may refuse the whole command.
public enum MDMCommandPayload {
    /// Why a command cannot be written.
    public enum PayloadError: Error, Hashable, Sendable, CustomStringConvertible {
        case adamIDNotNumeric(String)
        case missingBundleID(adamID: String)
        /// The device's platform or OS version has no such command (RemoveApplication before macOS 11).
        case notSupported(DeviceCommand.Kind, DevicePlatform, OSVersion)

        /// No later attempt can succeed (a metadata sync may still bring a missing bundle id).
        public var isPermanent: Bool {
            if case .notSupported = self { return true }
            return false
        }

        public var description: String {
            switch self {
            case .adamIDNotNumeric(let id):
                "adamId \"\(id)\" is not a number; InstallApplication needs an integer iTunesStoreID."
            case .missingBundleID(let id):
                "No bundle id is known for app \(id); RemoveApplication needs one (sync the app's metadata)."
            case .notSupported(let kind, let platform, let version):
                "\(kind.rawValue) is not available on \(platform.rawValue) \(version) (Apple's schema)."
            }
        }
    }

    /// A plist value, in the few types MDM commands use.
    indirect enum Value {
        case string(String)
        case integer(Int)
        case bool(Bool)
        case dict([(String, Value)])
        case array([Value])
    }

    /// The XML plist for `command`, whose `CommandUUID` is the command's id.
    /// - Parameters:
    ///   - platform: the device's platform: `ManagementFlags` 1 on iOS/iPadOS and none on macOS (the schema's
    ///     values are 1, 4 and 5; 0 is not one), `InstallAsManaged` on macOS only.
    ///   - osVersion: the OS version the device reported; keys newer than it are left out (nil: assume current).
    ///   - bundleID: the app's bundle id, required by RemoveApplication.
    public static func plist(
        for command: DeviceCommand,
        platform: DevicePlatform,
        osVersion: OSVersion? = nil,
        bundleID: String?
    ) throws -> Data {
        func has(_ key: CommandKeyAvailability) -> Bool { key.isAvailable(on: platform, version: osVersion) }
        let commandAvailability: CommandKeyAvailability =
            switch command.kind {
            case .installApplication: .installApplication
            case .removeApplication: .removeApplication
            case .installedApplicationList: .installedApplicationList
            }
        if !has(commandAvailability), let osVersion {
            throw PayloadError.notSupported(command.kind, platform, osVersion)
        }
        var body: [(String, Value)] = [("RequestType", .string(command.kind.rawValue))]
        switch command.kind {
        case .installApplication:
            guard let adamID = Int(command.adamID) else { throw PayloadError.adamIDNotNumeric(command.adamID) }
            body.append(("iTunesStoreID", .integer(adamID)))
            if has(.options) { body.append(("Options", .dict([("PurchaseMethod", .integer(1))]))) }
            // 1: remove the app with the MDM profile. On macOS it also needs InstallAsManaged; vpp sends no flags
            // there, as before (it sent 0, which is not a schema value).
            if platform == .iOS, has(.managementFlags) { body.append(("ManagementFlags", .integer(1))) }
            if has(.installAsManaged) { body.append(("InstallAsManaged", .bool(true))) }
            // Taking over a user-installed copy needs InstallAsManaged on macOS: both arrive in 11.0.
            if has(.changeManagementState) { body.append(("ChangeManagementState", .string("Managed"))) }
        case .removeApplication:
            guard let bundleID, !bundleID.isEmpty else { throw PayloadError.missingBundleID(adamID: command.adamID) }
            body.append(("Identifier", .string(bundleID)))
        case .installedApplicationList:
            if has(.managedAppsOnly) { body.append(("ManagedAppsOnly", .bool(true))) }
        }
        let envelope: Value = .dict([
            ("Command", .dict(body)), ("CommandUUID", .string(command.id.uuidString.uppercased())),
        ])
        var xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
            <plist version="1.0">

            """
        write(envelope, into: &xml, indent: "")
        xml += "</plist>\n"
        return Data(xml.utf8)
    }

    static func write(_ value: Value, into xml: inout String, indent: String) {
        switch value {
        case .string(let text): xml += "\(indent)<string>\(escape(text))</string>\n"
        case .integer(let number): xml += "\(indent)<integer>\(number)</integer>\n"
        case .bool(let flag): xml += "\(indent)\(flag ? "<true/>" : "<false/>")\n"
        case .array(let items):
            xml += "\(indent)<array>\n"
            for item in items { write(item, into: &xml, indent: indent + "\t") }
            xml += "\(indent)</array>\n"
        case .dict(let pairs):
            xml += "\(indent)<dict>\n"
            for (key, item) in pairs {
                xml += "\(indent)\t<key>\(escape(key))</key>\n"
                write(item, into: &xml, indent: indent + "\t")
            }
            xml += "\(indent)</dict>\n"
        }
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
