import Foundation
import VPPDomain

/// Refusals of the use cases that are not already a domain, storage or Apple error. Each case carries the facts
/// (names, serials, holder); `description` words them without naming any face's commands, so a REST client
/// never reads CLI syntax — a face that wants to add its own hint matches the case.
public enum UseCaseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Renew was given a file for another location.
    case wrongLocation(expected: String, got: String)
    /// The token cannot be used now (expired, revoked, invalid, in use elsewhere).
    case tokenUnusable(location: String, status: String, nextStep: String)
    /// Another holder has the token; take-over needs explicit confirmation.
    case takeOverNeedsConfirmation(holder: HolderIdentity)
    /// The token is not held by anyone else: there is nothing to take over.
    case nothingToTakeOver(location: String)
    case unknownDevices([String])
    /// No device in the inventory is enrolled in MDM as this enrollment id (a status report's sender).
    case unknownEnrollment(String)
    case unknownUsers([String])
    case noAssignees
    case duplicateAssignees([String])
    case alreadyLicensed([String])
    case notLicensed([String])
    /// Another server is syncing this token right now.
    case syncInProgress(location: String)
    case badNotification(String)
    /// A listing's `limit` or `after` is not one it can serve.
    case badPageRequest(String)
    case unauthorised
    case unknownGroup(String)
    case unknownScope(String)
    /// A dynamic group's members follow enrollments: they cannot be added or removed one by one.
    case dynamicGroup(String)
    /// A group that scopes name cannot be deleted.
    case groupInUse(String, scopes: [String])
    /// The app cannot be licensed to devices, but the scope names devices.
    case notDeviceAssignable(String)
    case badAlert(String)

    public var description: String {
        switch self {
        case .wrongLocation(let expected, let got):
            "This file is for location \"\(got)\", but the token being renewed is for \"\(expected)\". "
                + "Download the token of \"\(expected)\"."
        case .tokenUnusable(let location, let status, let nextStep):
            "The token of \"\(location)\" is \(status.replacingOccurrences(of: "_", with: " ")) and grants no "
                + "licences. \(nextStep)"
        case .takeOverNeedsConfirmation(let holder):
            "\(holder) holds this token. Preview the take-over, then confirm it explicitly."
        case .nothingToTakeOver(let location): "No other holder manages \"\(location)\"; there is nothing to take over."
        case .unknownDevices(let serials):
            "Unknown device\(serials.count == 1 ? "" : "s"): \(Self.list(serials)). Add them to the inventory first."
        case .unknownEnrollment(let id):
            "No device is enrolled as \"\(id.prefix(128))\"; it must enrol through the MDM server first."
        case .unknownUsers(let ids):
            "Unknown user\(ids.count == 1 ? "" : "s"): \(Self.list(ids)). Register them first."
        case .noAssignees: "Name at least one device serial number or user."
        case .duplicateAssignees(let items): "Listed more than once: \(Self.list(items))."
        case .alreadyLicensed(let items): "Already licensed: \(Self.list(items))."
        case .notLicensed(let items): "No licence to revoke for: \(Self.list(items))."
        case .syncInProgress(let location): "A sync of \"\(location)\" is already running on another server."
        case .badNotification(let detail): "Rejected notification: \(detail)"
        case .badPageRequest(let detail): "Bad page request: \(detail)."
        case .unauthorised: "Not authorised."
        case .unknownGroup(let name): "No group named \(name)."
        case .unknownScope(let name): "No scope named \(name)."
        case .dynamicGroup(let name):
            "Group \(name) is dynamic: its members follow enrollments and cannot be added or removed by hand."
        case .groupInUse(let name, let scopes):
            "Group \(name) is used by scope\(scopes.count == 1 ? "" : "s") \(Self.list(scopes)); change those first."
        case .notDeviceAssignable(let app): "App \(app) cannot be licensed to devices, and the scope names devices."
        case .badAlert(let detail): "Bad alert level: \(detail)."
        }
    }

    static func list(_ items: [String]) -> String {
        items.count <= 10
            ? items.joined(separator: ", ") : items.prefix(10).joined(separator: ", ") + " and \(items.count - 10) more"
    }
}
