import Foundation

/// Why a licence cannot be granted, moved or taken back. Each case names the item concerned.
public enum LicenceError: Error, Hashable, Sendable, CustomStringConvertible {
    case bookToDevice(AssetKey)
    case notDeviceAssignable(AssetKey)
    case notRevocable(AssetKey)
    /// Usable tokens carry the asset but none has a licence left.
    case noLicencesLeft(AssetKey, requested: Int, available: Int)
    /// No token that carries the asset can grant licences now; each reason names a token and its status.
    case noUsableToken(AssetKey, reasons: [String])
    case inconsistentCounts(String)
    case invalidTransition(from: AssignmentState, to: AssignmentState)
    /// A stored licence state that cannot be read back (never silently defaulted).
    case unreadableState(String)

    public var description: String {
        switch self {
        case .bookToDevice(let key):
            "\(key) is a book; books can only be assigned to users, not to devices."
        case .notDeviceAssignable(let key):
            "\(key) cannot be assigned to a device (Apple marks it not device-assignable); assign it to a user instead."
        case .notRevocable(let key):
            "Apple does not allow licences of \(key) to be revoked."
        case .noLicencesLeft(let key, let requested, let available):
            "No licences left for \(key): \(requested) requested, \(available) available across usable tokens."
        case .noUsableToken(let key, let reasons):
            "No usable token carries \(key)" + (reasons.isEmpty ? "." : ": " + reasons.joined(separator: "; ") + ".")
        case .inconsistentCounts(let detail):
            "Inconsistent licence counts: \(detail)."
        case .invalidTransition(let from, let to):
            "A licence cannot go from \(from.code) to \(to.code)."
        case .unreadableState(let detail):
            "A stored licence state could not be read: \(detail)."
        }
    }
}
