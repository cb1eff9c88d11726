import Foundation
import VPPDomain

/// Storage refusals the use cases act on, translated from constraint violations by the adapters.
/// Every one leaves the database as it was (the unit of work rolls back).
public enum StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// This tenant already has a token for the location.
    case duplicateLocation(locationName: String)
    case duplicateTenant(String)
    case unknownTenant
    case unknownToken(TokenID)
    case unknownApp(AssetKey)
    case unknownDevice(String)
    case unknownUser(String)
    /// The database refused the change for another integrity reason.
    case constraintViolation(String)
    /// The database is unreachable or failed; `detail` never contains secrets.
    case unavailable(String)
    /// The assignees already hold a licence for the app (one licence per app per device or user).
    case alreadyLicensed([String])
    /// A stored value this build cannot read (an unknown state or kind): an error, never a default.
    case unreadable(String)

    public var description: String {
        switch self {
        case .duplicateLocation(let name):
            "This tenant already has a token for location \"\(name)\"; use `token renew` to replace it."
        case .duplicateTenant(let name): "A tenant named \"\(name)\" already exists."
        case .unknownTenant: "No such tenant."
        case .unknownToken(let id): "No token \(id) in this tenant."
        case .unknownApp(let key): "No app \(key) in this tenant's repository."
        case .unknownDevice(let serial): "No device with serial number \(serial) in this tenant."
        case .unknownUser(let id): "No managed user \(id) in this tenant."
        case .constraintViolation(let detail): "The change was refused: \(detail)."
        case .unavailable(let detail): "The database is unavailable: \(detail)."
        case .alreadyLicensed(let who): "Already licensed: \(who.joined(separator: ", "))."
        case .unreadable(let detail): "A stored value could not be read: \(detail)."
        }
    }
}
