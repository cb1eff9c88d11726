import Foundation
import VPPDomain

/// A managed user as the CLI's `--json` and the REST API show it.
public struct UserView: Encodable, Sendable, Hashable {
    public let clientUserId: String
    public let email: String?
    public let status: String

    public init(_ user: ManagedUser) {
        clientUserId = user.clientUserID.value
        email = user.email
        status = user.status.rawValue
    }
}
