import Foundation

// Apple's JSON shapes, as the client reads them. The simulator has its own: the two never share a type.

struct WireError: Decodable, Sendable {
    let errorNumber: Int?
    let errorMessage: String?
    let errorInfo: WireErrorInfo?
}

struct WireErrorInfo: Decodable, Sendable {
    let assets: [WireAssetKey]?
    let clientUserIds: [String]?
    let serialNumbers: [String]?
}

struct WireAssetKey: Codable, Sendable {
    let adamId: String
    let pricingParam: String?
}

struct WireMDMInfo: Codable, Sendable {
    let id: String?
    let name: String?
    let metadata: String?
}

/// Fields every authenticated response may carry.
struct WireEnvelope: Decodable, Sendable {
    let uId: String?
    let tokenExpirationDate: String?
    let mdmInfo: WireMDMInfo?
}

struct WireServiceConfig: Decodable, Sendable {
    let limits: [String: Int]?
    let urls: [String: String]?
}

struct WireClientConfig: Decodable, Sendable {
    let countryISO2ACode: String?
    let defaultPlatform: String?
    let locationName: String?
    let notificationUrl: String?
    let subscribedNotificationTypes: [String]?
    let uId: String?
    let websiteURL: String?
}

struct WireClientConfigRequest: Encodable, Sendable {
    let mdmInfo: WireMDMInfo?
    let notificationUrl: String?
    let notificationAuthToken: String?
    let notificationTypes: [String]?
}

/// Paging fields of assets, assignments and users.
protocol WirePage: Decodable, Sendable {
    associatedtype Item: Decodable & Sendable
    var items: [Item] { get }
    var currentPageIndex: Int? { get }
    var nextPageIndex: Int? { get }
    var totalPages: Int? { get }
    var versionId: String? { get }
}

struct WireAsset: Decodable, Sendable {
    let adamId: String
    let pricingParam: String?
    let productType: String?
    let assignedCount: Int?
    let availableCount: Int?
    let retiredCount: Int?
    let totalCount: Int?
    let deviceAssignable: Bool?
    let revocable: Bool?
    let supportedPlatforms: [String]?
}

struct WireAssetsPage: WirePage {
    let assets: [WireAsset]?
    let currentPageIndex: Int?
    let nextPageIndex: Int?
    let totalPages: Int?
    let versionId: String?
    var items: [WireAsset] { assets ?? [] }
}

struct WireAssignment: Decodable, Sendable {
    let adamId: String
    let pricingParam: String?
    let serialNumber: String?
    let clientUserId: String?
}

struct WireAssignmentsPage: WirePage {
    let assignments: [WireAssignment]?
    let currentPageIndex: Int?
    let nextPageIndex: Int?
    let totalPages: Int?
    let versionId: String?
    var items: [WireAssignment] { assignments ?? [] }
}

struct WireUser: Decodable, Sendable {
    let clientUserId: String
    let email: String?
    let status: String?
    let inviteCode: String?
    let idHash: String?
}

struct WireUsersPage: WirePage {
    let users: [WireUser]?
    let currentPageIndex: Int?
    let nextPageIndex: Int?
    let totalPages: Int?
    let versionId: String?
    var items: [WireUser] { users ?? [] }
}

struct WireManageAssetsRequest: Encodable, Sendable {
    let assets: [WireAssetKey]
    let serialNumbers: [String]?
    let clientUserIds: [String]?
}

struct WireRevokeRequest: Encodable, Sendable {
    let serialNumbers: [String]?
    let clientUserIds: [String]?
}

struct WireUserRequest: Encodable, Sendable {
    let clientUserId: String
    let email: String?
    let managedAppleId: String?
}

struct WireManageUsersRequest: Encodable, Sendable {
    let users: [WireUserRequest]
}

struct WireEventResponse: Decodable, Sendable {
    let eventId: String?
}

struct WireStatus: Decodable, Sendable {
    let eventStatus: String?
    let eventType: String?
    let numCompleted: Int?
    let numRequested: Int?
    let failures: [WireError]?
}
