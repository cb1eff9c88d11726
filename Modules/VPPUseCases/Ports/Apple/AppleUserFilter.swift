import Foundation
import VPPDomain

/// Filters of `GET users`.
public struct AppleUserFilter: Hashable, Sendable {
    public var activeOnly: Bool?
    public var retiredOnly: Bool?
    public var clientUserID: String?
    public var sinceVersionID: String?

    public init(
        activeOnly: Bool? = nil,
        retiredOnly: Bool? = nil,
        clientUserID: String? = nil,
        sinceVersionID: String? = nil
    ) {
        self.activeOnly = activeOnly
        self.retiredOnly = retiredOnly
        self.clientUserID = clientUserID
        self.sinceVersionID = sinceVersionID
    }
}
