import Foundation
import VPPDomain

/// Apple MDM command plists (apple/device-management `mdm/commands/`), written as XML by hand so the
/// key types are exact: `iTunesStoreID` and `PurchaseMethod` integers, `InstallAsManaged` a boolean.
public enum MDMCommandPayload {
    /// Why a command cannot be written.
    public enum PayloadError: Error, Hashable, Sendable, CustomStringConvertible {
        case adamIDNotNumeric(String)
        case missingBundleID(adamID: String)

        public var description: String {
            switch self {
            case .adamIDNotNumeric(let id):
                "adamId \"\(id)\" is not a number; InstallApplication needs an integer iTunesStoreID."
            case .missingBundleID(let id):
                "No bundle id is known for app \(id); RemoveApplication needs one (sync the app's metadata)."
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
    ///   - platform: decides `ManagementFlags` (1 on iOS/iPadOS, 0 on macOS).
    ///   - bundleID: the app's bundle id, required by RemoveApplication.
    public static func plist(for command: DeviceCommand, platform: DevicePlatform, bundleID: String?) throws -> Data {
        let body: [(String, Value)]
        switch command.kind {
        case .installApplication:
            guard let adamID = Int(command.adamID) else { throw PayloadError.adamIDNotNumeric(command.adamID) }
            body = [
                ("RequestType", .string("InstallApplication")),
                ("iTunesStoreID", .integer(adamID)),
                ("Options", .dict([("PurchaseMethod", .integer(1))])),
                ("ManagementFlags", .integer(platform == .macOS ? 0 : 1)),
                ("InstallAsManaged", .bool(true)),
                ("ChangeManagementState", .string("Managed")),
            ]
        case .removeApplication:
            guard let bundleID, !bundleID.isEmpty else { throw PayloadError.missingBundleID(adamID: command.adamID) }
            body = [("RequestType", .string("RemoveApplication")), ("Identifier", .string(bundleID))]
        case .installedApplicationList:
            body = [("RequestType", .string("InstalledApplicationList")), ("ManagedAppsOnly", .bool(true))]
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
