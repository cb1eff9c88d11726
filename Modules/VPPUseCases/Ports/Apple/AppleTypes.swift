import Foundation
import VPPDomain

/// The token to call Apple with, and the holder we expect to see in `mdmInfo`.
///
/// With `expectedHolder` set, a response naming another holder fails with
/// ``AppleAPIError/claimedByAnotherHolder(_:)``; leave it `nil` to read who holds a token (upload, take-over).
public struct AppleCredentials: Sendable {
    public let token: ContentTokenSecret
    public let expectedHolder: HolderIdentity?

    public init(token: ContentTokenSecret, expectedHolder: HolderIdentity?) {
        self.token = token
        self.expectedHolder = expectedHolder
    }
}

/// Apple's `service/config` limits (dynamic; re-read at most every 5 minutes).
public struct AppleServiceLimits: Hashable, Sendable {
    public var maxAssets = 25
    public var maxSerialNumbers = 1000
    public var maxClientUserIds = 1000
    public var maxRevokeSerialNumbers = 100
    public var maxRevokeClientUserIds = 100
    public var maxUsers = 100
    public var maxRequestPerSecond = 15
    public var maxNotificationLength = 512
    /// `urls.contentMetadataLookup`, when Apple gives it.
    public var contentMetadataLookupURL: String?

    public init() {}
}

/// What every authenticated Apple response says about the token.
public struct AppleResponseContext: Hashable, Sendable {
    public var locationUID: String?
    public var tokenExpiresAt: Date?
    public var holder: HolderIdentity?

    public init(locationUID: String? = nil, tokenExpiresAt: Date? = nil, holder: HolderIdentity? = nil) {
        self.locationUID = locationUID
        self.tokenExpiresAt = tokenExpiresAt
        self.holder = holder
    }
}

/// `client/config`: the location behind a token and how it is configured.
public struct AppleLocationConfig: Hashable, Sendable {
    public var context: AppleResponseContext
    public var location: Location
    public var defaultPlatform: String?
    public var websiteURL: String?
    public var notificationURL: String?
    public var subscribedNotificationTypes: [String]

    public init(context: AppleResponseContext, location: Location, defaultPlatform: String? = nil, websiteURL: String? = nil,
                notificationURL: String? = nil, subscribedNotificationTypes: [String] = []) {
        self.context = context
        self.location = location
        self.defaultPlatform = defaultPlatform
        self.websiteURL = websiteURL
        self.notificationURL = notificationURL
        self.subscribedNotificationTypes = subscribedNotificationTypes
    }
}

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

/// One asset with its counts, from `GET assets`.
public struct AppleAssetRecord: Hashable, Sendable {
    public var asset: Asset
    public var counts: LicenceCounts

    public init(asset: Asset, counts: LicenceCounts) {
        self.asset = asset
        self.counts = counts
    }
}

/// Who an Apple assignment is for, as Apple spells it (not yet validated against our rules).
public enum AppleAssignee: Hashable, Sendable {
    case serialNumber(String)
    case clientUserID(String)
}

/// One assignment from `GET assignments`.
public struct AppleAssignmentRecord: Hashable, Sendable {
    public var asset: AssetKey
    public var assignee: AppleAssignee

    public init(asset: AssetKey, assignee: AppleAssignee) {
        self.asset = asset
        self.assignee = assignee
    }
}

/// One user from `GET users`.
public struct AppleUserRecord: Hashable, Sendable {
    public var clientUserID: String
    public var email: String?
    public var status: String
    public var inviteCode: String?
    public var idHash: String?

    public init(clientUserID: String, email: String? = nil, status: String, inviteCode: String? = nil, idHash: String? = nil) {
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

/// The result of a complete paged walk: every item, from one consistent `versionId`.
public struct AppleWalk<Item: Sendable>: Sendable {
    public var items: [Item]
    /// The first page's `versionId`: pass it as `sinceVersionId` next time.
    public var versionID: String
    public var context: AppleResponseContext
    public var pagesFetched: Int
    /// How many times the walk started again because `versionId` changed mid-walk.
    public var restarts: Int

    public init(items: [Item], versionID: String, context: AppleResponseContext, pagesFetched: Int, restarts: Int) {
        self.items = items
        self.versionID = versionID
        self.context = context
        self.pagesFetched = pagesFetched
        self.restarts = restarts
    }
}

/// One asynchronous Apple write, and exactly which items it covered (so failures map back).
public struct AppleEventTicket: Hashable, Sendable {
    public var eventID: String
    public var assets: [AssetKey]
    public var serialNumbers: [String]
    public var clientUserIDs: [String]

    public init(eventID: String, assets: [AssetKey] = [], serialNumbers: [String] = [], clientUserIDs: [String] = []) {
        self.eventID = eventID
        self.assets = assets
        self.serialNumbers = serialNumbers
        self.clientUserIDs = clientUserIDs
    }
}

/// `GET status`: where an event is.
public struct AppleEventStatus: Hashable, Sendable {
    public enum State: String, Hashable, Sendable { case pending = "PENDING", complete = "COMPLETE", failed = "FAILED" }

    public struct Failure: Hashable, Sendable {
        public var error: AppleAPIError
        public var errorNumber: Int
        public var serialNumbers: [String]
        public var clientUserIDs: [String]
        public var assets: [AssetKey]

        public init(error: AppleAPIError, errorNumber: Int, serialNumbers: [String], clientUserIDs: [String], assets: [AssetKey]) {
            self.error = error
            self.errorNumber = errorNumber
            self.serialNumbers = serialNumbers
            self.clientUserIDs = clientUserIDs
            self.assets = assets
        }
    }

    public var state: State
    public var type: String
    public var numCompleted: Int
    public var numRequested: Int
    public var failures: [Failure]
    public var context: AppleResponseContext

    public init(state: State, type: String, numCompleted: Int, numRequested: Int, failures: [Failure], context: AppleResponseContext) {
        self.state = state
        self.type = type
        self.numCompleted = numCompleted
        self.numRequested = numRequested
        self.failures = failures
        self.context = context
    }
}

/// Filters of `GET assets`.
public struct AppleAssetFilter: Hashable, Sendable {
    public var adamID: String?
    public var pricingParam: PricingParam?
    public var productType: ProductType?
    public var revocable: Bool?
    public var deviceAssignable: Bool?
    public var minAvailableCount: Int?
    public var maxAvailableCount: Int?
    public var minAssignedCount: Int?
    public var maxAssignedCount: Int?

    public init(adamID: String? = nil, pricingParam: PricingParam? = nil, productType: ProductType? = nil, revocable: Bool? = nil,
                deviceAssignable: Bool? = nil, minAvailableCount: Int? = nil, maxAvailableCount: Int? = nil,
                minAssignedCount: Int? = nil, maxAssignedCount: Int? = nil) {
        self.adamID = adamID
        self.pricingParam = pricingParam
        self.productType = productType
        self.revocable = revocable
        self.deviceAssignable = deviceAssignable
        self.minAvailableCount = minAvailableCount
        self.maxAvailableCount = maxAvailableCount
        self.minAssignedCount = minAssignedCount
        self.maxAssignedCount = maxAssignedCount
    }
}

/// Filters of `GET assignments`.
public struct AppleAssignmentFilter: Hashable, Sendable {
    public var adamID: String?
    public var pricingParam: PricingParam?
    public var serialNumber: String?
    public var clientUserID: String?
    /// Only what changed since this `versionId` (an incremental sync).
    public var sinceVersionID: String?

    public init(adamID: String? = nil, pricingParam: PricingParam? = nil, serialNumber: String? = nil,
                clientUserID: String? = nil, sinceVersionID: String? = nil) {
        self.adamID = adamID
        self.pricingParam = pricingParam
        self.serialNumber = serialNumber
        self.clientUserID = clientUserID
        self.sinceVersionID = sinceVersionID
    }
}

/// Filters of `GET users`.
public struct AppleUserFilter: Hashable, Sendable {
    public var activeOnly: Bool?
    public var retiredOnly: Bool?
    public var clientUserID: String?
    public var sinceVersionID: String?

    public init(activeOnly: Bool? = nil, retiredOnly: Bool? = nil, clientUserID: String? = nil, sinceVersionID: String? = nil) {
        self.activeOnly = activeOnly
        self.retiredOnly = retiredOnly
        self.clientUserID = clientUserID
        self.sinceVersionID = sinceVersionID
    }
}
