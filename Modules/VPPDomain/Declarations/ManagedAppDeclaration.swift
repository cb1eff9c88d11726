import Foundation

/// The kind of licence a managed-app declaration installs with (`InstallBehavior.License.Assignment`): it must
/// match the licence vpp holds for the device at Apple, or the device reports `Error.LicenseNotFound`.
public enum LicenceAssignmentKind: String, Hashable, Sendable, Codable, CaseIterable {
    /// A licence assigned to the device's serial number.
    case device = "Device"
    /// A licence assigned to a user (clientUserId).
    case user = "User"

    /// The kind of the licence an assignee holds.
    public init(_ assignee: Assignee) {
        switch assignee {
        case .device: self = .device
        case .user: self = .user
        }
    }
}

/// Whether the device installs the app on its own (`Required`) or the user may (`Optional`).
public enum AppInstallPolicy: String, Hashable, Sendable, Codable, CaseIterable {
    case required = "Required"
    case optional = "Optional"
}

/// `UpdateBehavior.AutomaticAppUpdates` (iOS, macOS and visionOS 26).
public enum AutomaticAppUpdates: String, Hashable, Sendable, Codable, CaseIterable {
    case alwaysOn = "AlwaysOn"
    case alwaysOff = "AlwaysOff"
    case storeSettings = "StoreSettings"
}

/// Why a declaration cannot be built.
public enum DeclarationError: Error, Hashable, Sendable, CustomStringConvertible {
    case adamIDNotNumeric(String)
    /// An external version id (EVID) is a positive integer.
    case invalidVersion(Int)
    /// Apple ignores `UpdateBehavior` when `Version` pins the app: refused rather than sent and silently ignored.
    case updateBehaviorWithVersion
    /// The document that would leave breaks Apple's schema (a bug in vpp: nothing is published).
    case schemaViolations([String])

    public var description: String {
        switch self {
        case .adamIDNotNumeric(let id): "adamId \"\(id)\" is not a number; AppStoreID needs an App Store id."
        case .invalidVersion(let version): "version \(version) is not an external version id (a positive integer)."
        case .updateBehaviorWithVersion:
            "automatic updates cannot be set for a pinned version (the device ignores them)."
        case .schemaViolations(let found): "the declaration breaks Apple's schema: \(found.joined(separator: "; "))"
        }
    }
}

/// One app's `com.apple.configuration.app.managed` declaration (apple/device-management
/// `declarative/declarations/configurations/app.managed.yaml`), as vpp publishes it to a DDM server.
///
/// One declaration per app and licence kind: its ``identifier`` comes from the adamId, pricingParam and
/// licence kind only, so re-building it never makes a second declaration on the device. Its ``ServerToken``
/// comes from the content and a publication number, so a changed payload or a deliberate re-publish (after
/// `Error.LicenseNotFound`) makes the device evaluate it again, and nothing else does.
public struct ManagedAppDeclaration: Hashable, Sendable {
    /// The declaration type Apple defines for managed apps.
    public static let type = "com.apple.configuration.app.managed"

    public let asset: AssetKey
    public let assignment: LicenceAssignmentKind
    public let install: AppInstallPolicy
    /// A pinned external version id (EVID); the device never downgrades.
    public let version: Int?
    public let automaticUpdates: AutomaticAppUpdates?

    public init(
        asset: AssetKey,
        assignment: LicenceAssignmentKind,
        install: AppInstallPolicy = .required,
        version: Int? = nil,
        automaticUpdates: AutomaticAppUpdates? = nil
    ) throws(DeclarationError) {
        guard AdamID.isValid(asset.adamID) else { throw .adamIDNotNumeric(asset.adamID) }
        if let version, version < 1 { throw .invalidVersion(version) }
        if version != nil, automaticUpdates != nil { throw .updateBehaviorWithVersion }
        self.asset = asset
        self.assignment = assignment
        self.install = install
        self.version = version
        self.automaticUpdates = automaticUpdates
    }

    /// The app's declaration on a scope's terms (already checked when the terms were made).
    public init(asset: AssetKey, assignment: LicenceAssignmentKind, terms: DeclarationTerms) throws(DeclarationError) {
        try self.init(
            asset: asset,
            assignment: assignment,
            install: terms.install,
            version: terms.version,
            automaticUpdates: terms.automaticUpdates
        )
    }

    /// `vpp.app.<adamId>.<pricingParam>.<device|user>`: stable for the app and licence kind. The DDM server's
    /// set for the app carries the same name (KMFDDM keeps declarations and sets apart).
    public var identifier: String {
        "vpp.app.\(asset.adamID).\(asset.pricingParam.rawValue).\(assignment == .device ? "device" : "user")"
    }

    /// The first OS versions that apply the declaration: iOS/iPadOS 17.2, visionOS 2.4, macOS 26; a pinned
    /// version or an update behaviour needs 26 everywhere. tvOS and watchOS have no managed-app declaration.
    public func isSupported(on family: DeviceOSFamily, version osVersion: OSVersion?) -> Bool {
        let introduced: OSVersion
        switch family {
        case .iOS, .iPadOS: introduced = OSVersion(17, 2)
        case .visionOS: introduced = OSVersion(2, 4)
        case .macOS: introduced = OSVersion(26)
        case .tvOS: return false
        }
        let needed = version != nil || automaticUpdates != nil ? max(introduced, OSVersion(26)) : introduced
        guard let osVersion else { return true }
        return osVersion >= needed
    }

    /// The `Payload` dictionary, in Apple's key names.
    public var payload: [String: Any] {
        var behaviour: [String: Any] = ["Install": install.rawValue, "License": ["Assignment": assignment.rawValue]]
        if let version { behaviour["Version"] = version }
        var payload: [String: Any] = ["AppStoreID": asset.adamID, "InstallBehavior": behaviour]
        if let automaticUpdates { payload["UpdateBehavior"] = ["AutomaticAppUpdates": automaticUpdates.rawValue] }
        return payload
    }

    /// The payload as canonical JSON (keys sorted): the same content always gives the same bytes.
    public var payloadJSON: Data {
        // Only strings, integers and dictionaries of them: serialising cannot fail.
        (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])) ?? Data()
    }

    /// The `ServerToken` for the content at `publication` (0 at first; each deliberate re-publish adds one).
    public func serverToken(publication: Int) -> String {
        let content = String(decoding: payloadJSON, as: UTF8.self)
        return String(SHA256Digest.hex(of: "\(Self.type)\n\(identifier)\n\(content)\n\(publication)").prefix(32))
    }

    /// The declaration document the DDM server stores, checked against Apple's schema before it leaves.
    /// - Throws: ``DeclarationError/schemaViolations(_:)`` when the document would break the schema.
    public func document(publication: Int) throws(DeclarationError) -> Data {
        let document: [String: Any] = [
            "Type": Self.type, "Identifier": identifier, "ServerToken": serverToken(publication: publication),
            "Payload": payload,
        ]
        let found = ManagedAppDeclarationSchema.violations(document)
        guard found.isEmpty else { throw .schemaViolations(found) }
        return (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data()
    }
}
