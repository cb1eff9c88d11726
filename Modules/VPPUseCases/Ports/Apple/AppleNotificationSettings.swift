import Foundation
import VPPDomain

/// Notification settings to send with `POST client/config`.
public struct AppleNotificationSettings: Sendable {
    public var url: String
    /// The bearer Apple will send back to us; a secret.
    public var authToken: String
    public var types: [String]

    public init(url: String, authToken: String, types: [String]) {
        self.url = url
        self.authToken = authToken
        self.types = types
    }
}
