import Foundation
import VPPDomain

/// `client/config`: the location behind a token and how it is configured.
public struct AppleLocationConfig: Hashable, Sendable {
    public var context: AppleResponseContext
    public var location: Location
    public var defaultPlatform: String?
    public var websiteURL: String?
    public var notificationURL: String?
    public var subscribedNotificationTypes: [String]

    public init(
        context: AppleResponseContext,
        location: Location,
        defaultPlatform: String? = nil,
        websiteURL: String? = nil,
        notificationURL: String? = nil,
        subscribedNotificationTypes: [String] = []
    ) {
        self.context = context
        self.location = location
        self.defaultPlatform = defaultPlatform
        self.websiteURL = websiteURL
        self.notificationURL = notificationURL
        self.subscribedNotificationTypes = subscribedNotificationTypes
    }
}
