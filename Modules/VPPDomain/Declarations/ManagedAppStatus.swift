import Foundation

/// A managed app's state in a device's declarative status (`app.managed.list`, apple/device-management
/// `declarative/status/app.managed.list.yaml`).
public enum ManagedAppState: String, Hashable, Sendable, Codable, CaseIterable {
    case optional, queued, downloading, installing, managed, failed
    case notPresent = "not-present"
    case promptingForConsent = "prompting-for-consent"
    case promptingForLogin = "prompting-for-login"
    case promptingForManagement = "prompting-for-management"
    case managedButUninstalled = "managed-but-uninstalled"
}

/// One of a status item's `reasons` (`Error.LicenseNotFound`, `Error.InstallFailed`, `Info.UpdateAvailable`, …).
public struct StatusReason: Hashable, Sendable, Codable {
    public static let licenceNotFound = "Error.LicenseNotFound"

    public let code: String
    public let description: String?

    public init(code: String, description: String? = nil) {
        self.code = code
        self.description = description
    }
}

/// One app as a device reported it.
public struct ManagedAppStatus: Hashable, Sendable {
    /// The app's bundle id.
    public let bundleID: String
    /// The declaration that manages the app, when the device named it.
    public let declarationIdentifier: String?
    /// Nil for a removed item (`_removed`) or a state this build does not know (kept in ``rawState``).
    public let state: ManagedAppState?
    public let rawState: String?
    public let reasons: [StatusReason]
    public let externalVersionID: Int?
    public let version: String?
    /// The device no longer reports the app (an incremental report's `_removed`).
    public let removed: Bool

    public init(
        bundleID: String,
        declarationIdentifier: String? = nil,
        rawState: String? = nil,
        reasons: [StatusReason] = [],
        externalVersionID: Int? = nil,
        version: String? = nil,
        removed: Bool = false
    ) {
        self.bundleID = bundleID
        self.declarationIdentifier = declarationIdentifier
        self.rawState = rawState
        self.state = rawState.flatMap(ManagedAppState.init(rawValue:))
        self.reasons = reasons
        self.externalVersionID = externalVersionID
        self.version = version
        self.removed = removed
    }

    /// What vpp does about this report.
    public enum Disposition: Hashable, Sendable {
        /// Installed and managed: the licence's install is verified.
        case verified
        /// The device found no licence: ask Apple, re-associate if missing, re-publish.
        case licenceNotFound
        /// A required app the system has not installed (the user removed it): a drift finding.
        case drift
        /// Failed for another reason: shown with the reasons.
        case failed
        /// On its way (queued, downloading, prompting, …) or removed: nothing to do yet.
        case pending
    }

    public var disposition: Disposition {
        if reasons.contains(where: { $0.code == StatusReason.licenceNotFound }) { return .licenceNotFound }
        switch state {
        case .managed: return .verified
        case .managedButUninstalled: return .drift
        case .failed: return .failed
        default: return reasons.contains(where: { $0.code.hasPrefix("Error.") }) ? .failed : .pending
        }
    }
}

/// Kept in vpp's own form of an MDM event (the state follows from the raw state, so it is not stored twice).
extension ManagedAppStatus: Codable {
    private enum CodingKeys: String, CodingKey {
        case bundleID, declarationIdentifier, rawState, reasons, externalVersionID, version, removed
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            bundleID: try container.decode(String.self, forKey: .bundleID),
            declarationIdentifier: try container.decodeIfPresent(String.self, forKey: .declarationIdentifier),
            rawState: try container.decodeIfPresent(String.self, forKey: .rawState),
            reasons: try container.decodeIfPresent([StatusReason].self, forKey: .reasons) ?? [],
            externalVersionID: try container.decodeIfPresent(Int.self, forKey: .externalVersionID),
            version: try container.decodeIfPresent(String.self, forKey: .version),
            removed: try container.decodeIfPresent(Bool.self, forKey: .removed) ?? false
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(bundleID, forKey: .bundleID)
        try container.encodeIfPresent(declarationIdentifier, forKey: .declarationIdentifier)
        try container.encodeIfPresent(rawState, forKey: .rawState)
        if !reasons.isEmpty { try container.encode(reasons, forKey: .reasons) }
        try container.encodeIfPresent(externalVersionID, forKey: .externalVersionID)
        try container.encodeIfPresent(version, forKey: .version)
        if removed { try container.encode(removed, forKey: .removed) }
    }
}

/// Why a status report cannot be read.
public enum StatusReportError: Error, Hashable, Sendable, CustomStringConvertible {
    case notJSON
    case malformed(String)

    public var description: String {
        switch self {
        case .notJSON: "the status report is not a JSON object"
        case .malformed(let what): "the status report is malformed: \(what)"
        }
    }
}

/// A device's declarative status report (`{"StatusItems": {"app": {"managed": {"list": […]}}}, …}`), the body of a
/// DeclarativeManagement check-in to the `status` endpoint.
public enum DeclarativeStatusReport {
    /// The managed apps the report names; empty when it carries no `app.managed.list` (an incremental report
    /// about something else). Items without a bundle id are refused, unknown keys ignored.
    public static func managedApps(_ data: Data) throws(StatusReportError) -> [ManagedAppStatus] {
        guard let object = try? JSONSerialization.jsonObject(with: data), let report = object as? [String: Any] else {
            throw .notJSON
        }
        let items = report["StatusItems"] as? [String: Any]
        let nested = ((items?["app"] as? [String: Any])?["managed"] as? [String: Any])?["list"]
        guard let list = nested ?? items?["app.managed.list"] else { return [] }
        guard let entries = list as? [[String: Any]] else { throw .malformed("app.managed.list is not a list") }
        var apps: [ManagedAppStatus] = []
        for entry in entries {
            guard let bundleID = entry["identifier"] as? String, !bundleID.isEmpty, bundleID.count <= 255 else {
                throw .malformed("an app without an identifier")
            }
            let reasons = (entry["reasons"] as? [[String: Any]] ?? []).compactMap { reason -> StatusReason? in
                guard let code = reason["code"] as? String else { return nil }
                return StatusReason(code: String(code.prefix(100)), description: reason["description"] as? String)
            }
            apps.append(
                ManagedAppStatus(
                    bundleID: bundleID,
                    declarationIdentifier: entry["declaration-identifier"] as? String,
                    rawState: entry["state"] as? String,
                    reasons: reasons,
                    externalVersionID: entry["external-version-id"] as? Int,
                    version: entry["version"] as? String,
                    removed: entry["_removed"] as? Bool ?? false
                )
            )
        }
        return apps
    }
}

extension ManagedAppDeclaration {
    /// The app and licence kind a vpp declaration identifier names (`vpp.app.<adamId>.<pricingParam>.<kind>`);
    /// nil for any other declaration on the device.
    public static func parse(identifier: String) -> (AssetKey, LicenceAssignmentKind)? {
        let parts = identifier.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, parts[0] == "vpp", parts[1] == "app", AdamID.isValid(parts[2]),
            let pricing = PricingParam(rawValue: parts[3])
        else { return nil }
        let kind: LicenceAssignmentKind
        switch parts[4] {
        case "device": kind = .device
        case "user": kind = .user
        default: return nil
        }
        return (AssetKey(adamID: parts[2], pricingParam: pricing), kind)
    }
}
