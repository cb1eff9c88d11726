import Foundation

/// The parts of Apple's `app.managed.yaml` vpp writes, as checks over a declaration document: the keys vpp
/// may send, their types and listed values, and the rules between them (one app source; a licence kind for an
/// App Store app). Run on every document before it leaves, so a mistake in vpp is a refusal, not a device error.
public enum ManagedAppDeclarationSchema {
    enum Kind { case string, integer, dictionary }

    /// Key path → type and allowed values (nil: any). Only what vpp writes: anything else is a violation.
    static let keys: [String: (kind: Kind, allowed: Set<String>?)] = [
        "AppStoreID": (.string, nil),
        "InstallBehavior": (.dictionary, nil),
        "InstallBehavior.Install": (.string, ["Optional", "Required"]),
        "InstallBehavior.License": (.dictionary, nil),
        "InstallBehavior.License.Assignment": (.string, ["Device", "User"]),
        "InstallBehavior.Version": (.integer, nil),
        "UpdateBehavior": (.dictionary, nil),
        "UpdateBehavior.AutomaticAppUpdates": (.string, ["AlwaysOn", "AlwaysOff", "StoreSettings"]),
    ]

    /// Every way `document` (a parsed declaration) breaks the schema; empty when it is valid.
    public static func violations(_ document: [String: Any]) -> [String] {
        var found: [String] = []
        if document["Type"] as? String != ManagedAppDeclaration.type {
            found.append("Type: not \(ManagedAppDeclaration.type)")
        }
        for key in ["Identifier", "ServerToken"] where ((document[key] as? String) ?? "").isEmpty {
            found.append("\(key): missing")
        }
        let extra = Set(document.keys).subtracting(["Type", "Identifier", "ServerToken", "Payload"])
        found += extra.sorted().map { "\($0): not a declaration key" }
        guard let payload = document["Payload"] as? [String: Any] else { return found + ["Payload: missing"] }
        check(payload, prefix: "", into: &found)
        let sources = ["AppStoreID", "BundleID", "ManifestURL", "AppComposedIdentifier"].filter { payload[$0] != nil }
        if sources.count != 1 { found.append("Payload: exactly one app source, found \(sources)") }
        if let id = payload["AppStoreID"] as? String, !AdamID.isValid(id) { found.append("AppStoreID: not an id") }
        let behaviour = payload["InstallBehavior"] as? [String: Any]
        if (behaviour?["License"] as? [String: Any])?["Assignment"] == nil {
            found.append("InstallBehavior.License.Assignment: required for an App Store app")
        }
        if let version = behaviour?["Version"] as? Int, version < 1 { found.append("InstallBehavior.Version: < 1") }
        if let update = payload["UpdateBehavior"] as? [String: Any], update["AutomaticAppUpdates"] == nil {
            found.append("UpdateBehavior.AutomaticAppUpdates: required")
        }
        return found
    }

    private static func check(_ dictionary: [String: Any], prefix: String, into found: inout [String]) {
        for (key, value) in dictionary {
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            guard let facts = keys[path] else {
                found.append("\(path): not a key vpp may send")
                continue
            }
            switch facts.kind {
            case .string:
                guard let text = value as? String else {
                    found.append("\(path): not a string")
                    continue
                }
                if let allowed = facts.allowed, !allowed.contains(text) { found.append("\(path): \(text) not listed") }
            case .integer:
                if value is String || value is Bool || !(value is Int) { found.append("\(path): not an integer") }
            case .dictionary:
                guard let nested = value as? [String: Any] else {
                    found.append("\(path): not a dictionary")
                    continue
                }
                check(nested, prefix: path, into: &found)
            }
        }
    }
}
