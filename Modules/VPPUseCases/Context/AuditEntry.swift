import Foundation
import VPPDomain

/// One line of the audit log as a use case writes it: what was done, to what, how it ended, and free detail.
/// The actions, subjects and outcomes are declared here once; ``AuditRecord/init(at:actor:entry:)`` renders
/// an entry into the stored row's text, which the API, the CLI and the console show as it was written.
public struct AuditEntry: Hashable, Sendable {
    /// What was done. The raw value is the text the log stores and the API filters by (`?action=`).
    public enum Action: String, Hashable, Sendable, CaseIterable {
        case tokenUpload = "token.upload"
        case tokenRenew = "token.renew"
        case tokenRemove = "token.remove"
        case tokenTakeOver = "token.take-over"
        case tokenSync = "token.sync"
        case tokenStatus = "token.status"
        case licenceAssign = "licence.assign"
        case licenceRevoke = "licence.revoke"
        case licenceAssociate = "licence.associate"
        case licenceDisassociate = "licence.disassociate"
        case licenceRecovered = "licence.recovered"
        case eventAssociate = "event.associate"
        case eventDisassociate = "event.disassociate"
        case notificationAssetCount = "notification.asset-count"
        case notificationUnknown = "notification.unknown"
        case deviceAdd = "device.add"
        case deviceRetire = "device.retire"
        case userAdd = "user.add"
        case userEnrollment = "user.enrollment"
        case apiKeyCreate = "apikey.create"
        case apiKeyRevoke = "apikey.revoke"
        case apiKeyRotate = "apikey.rotate"
        case adminCreate = "admin.create"
        case consoleSignIn = "console.sign-in"
        case consoleSignOut = "console.sign-out"
        case mdmConnect = "mdm.connect"
        case mdmDisable = "mdm.disable"
        case mdmReclaim = "mdm.reclaim"
        case mdmDelivery = "mdm.delivery"
        case mdmDeclarations = "mdm.declarations"
        case groupPut = "group.put"
        case groupAdd = "group.add"
        case groupRemove = "group.remove"
        case groupDelete = "group.delete"
        case scopeCreate = "scope.create"
        case scopeUpdate = "scope.update"
        case scopeDelete = "scope.delete"

        /// The action that records a poll of an Apple event of `kind` (``PendingAppleEvent/kind``: the intent
        /// pump queues only `associate` and `disassociate` events).
        public static func appleEvent(kind: String) -> Action {
            kind == "disassociate" ? .eventDisassociate : .eventAssociate
        }
    }

    /// What an action was done to.
    public enum Subject: Hashable, Sendable {
        /// A content token, by its location's name.
        case token(location: String)
        /// A token file whose location is not known (it could not be read or claimed).
        case tokenFile
        case app(AssetKey)
        case device(SerialNumber)
        /// A batch of devices or users, by how many.
        case devices(count: Int)
        case users(count: Int)
        case user(ClientUserID)
        /// An Apple event, by its id.
        case appleEvent(id: String)
        /// An Apple notification, by its type.
        case notification(type: String)
        case apiKey(name: String)
        case admin(username: String)
        case mdmServer(MDMKind)
        case mdmWebhook
        case appDelivery(AppDelivery)
        case declarationPublisher(DeclarationPublisherKind)
        case group(GroupName)
        case scope(ScopeName)

        /// The subject as the log stores it (the `target` column).
        public var text: String {
            switch self {
            case .token(let location): location
            case .tokenFile: "(file)"
            case .app(let key): "\(key)"
            case .device(let serial): "device \(serial.value)"
            case .devices(let count): "\(count) device(s)"
            case .users(let count): "\(count) user(s)"
            case .user(let id): "user \(id.value)"
            case .appleEvent(let id): id
            case .notification(let type): type
            case .apiKey(let name): name
            case .admin(let username): username
            case .mdmServer(let kind): kind.rawValue
            case .mdmWebhook: "webhook"
            case .appDelivery(let delivery): delivery.rawValue
            case .declarationPublisher(let kind): kind.rawValue
            case .group(let name): name.value
            case .scope(let name): name.value
            }
        }
    }

    /// How it ended. The raw value is the stored text.
    public enum Outcome: String, Hashable, Sendable, CaseIterable {
        case ok, refused, failed, changed, reserved, queued, sent, settled, resent, recorded, applied, disabled
        /// A token stored without granting from it: another MDM server holds it.
        case inUseElsewhere = "in-use-elsewhere"
        /// An Apple event's state when it was polled.
        case pending, complete

        /// The outcome that records a polled Apple event in `state`.
        public init(_ state: AppleEventStatus.State) {
            switch state {
            case .pending: self = .pending
            case .complete: self = .complete
            case .failed: self = .failed
            }
        }
    }

    public let action: Action
    public let subject: Subject
    public let outcome: Outcome
    public let detail: String

    public init(_ action: Action, _ subject: Subject, _ outcome: Outcome = .ok, _ detail: String = "") {
        self.action = action
        self.subject = subject
        self.outcome = outcome
        self.detail = detail
    }
}

extension AuditRecord {
    /// The stored row of `entry`, written by `actor` at `at`: the one place an entry becomes text.
    public init(id: UUID = UUID(), at: Date, actor: String, entry: AuditEntry) {
        self.init(
            id: id,
            at: at,
            actor: actor,
            action: entry.action.rawValue,
            target: entry.subject.text,
            outcome: entry.outcome.rawValue,
            detail: entry.detail
        )
    }
}
