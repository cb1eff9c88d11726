import Foundation
import VPPDomain
import VPPUseCases

/// Display-ready text for the view models: dates, badges, numbers.
enum ConsoleFormat {
    static func date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: date)
    }

    static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: date)
    }

    /// The licences a device or user holds, as a table cell: "Keynote (active), Pages (pending)" or "none".
    static func held(_ licences: [HeldLicence]) -> String {
        licences.isEmpty ? "none" : licences.map { "\($0.app) (\($0.state.rawValue))" }.joined(separator: ", ")
    }

    /// A status badge: its words and its colour class (ok, warn, bad).
    static func badge(_ status: TokenStatus) -> (text: String, tone: String) {
        switch status {
        case .active: ("Active", "ok")
        case .expiringSoon(let days): ("Expires in \(days) day\(days == 1 ? "" : "s")", "warn")
        case .expired: ("Expired", "bad")
        case .revoked: ("Revoked", "bad")
        case .invalid: ("Invalid", "bad")
        case .inUseElsewhere(let holder): ("In use by \(Console.holderName(holder))", "bad")
        }
    }

    static func assignee(_ assignee: Assignee) -> String {
        switch assignee {
        case .device(let serial): serial.value
        case .user(let user): "user \(user.value)"
        }
    }

    static func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }

    /// Fixed sentences for the outcome of the last action (the URL carries only the code, never text).
    static func notice(_ code: String?) -> String? {
        switch code {
        case "uploaded": "Token uploaded and synced."
        case "stored-elsewhere":
            "Token stored. Another holder uses it: vpp grants nothing from it until you take it over."
        case "synced": "Token synced with Apple."
        case "renewed": "Token renewed."
        case "taken-over": "Token taken over: vpp now holds it, and the other holder's licences were revoked."
        case "removed": "Token removed."
        case "assigned": "Licences requested from Apple. They become active when Apple confirms."
        case "revoked": "Revocation requested from Apple."
        case "devices-added": "Devices added."
        case "scope-saved": "Scope saved. Licences follow it: the plan is being carried out."
        case "scope-deleted": "Scope deleted. Its licences follow its removal policy."
        default: nil
        }
    }
}
