import Foundation
import VPPDomain

/// One user from `GET users`.
public struct AppleUserRecord: Hashable, Sendable {
    public var clientUserID: String
    public var email: String?
    public var status: String
    public var inviteCode: String?
    public var idHash: String?

    public init(
        clientUserID: String,
        email: String? = nil,
        status: String,
        inviteCode: String? = nil,
        idHash: String? = nil
    ) {
        self.clientUserID = clientUserID
        self.email = email
        self.status = status
        self.inviteCode = inviteCode
        self.idHash = idHash
    }
}

/// A user to create, update or retire.
public struct AppleUserRequest: Hashable, Sendable {
    public var clientUserID: String
    public var email: String?
    public var managedAppleID: String?

    public init(clientUserID: String, email: String? = nil, managedAppleID: String? = nil) {
        self.clientUserID = clientUserID
        self.email = email
        self.managedAppleID = managedAppleID
    }
}
