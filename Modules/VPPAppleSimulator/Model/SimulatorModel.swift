import Foundation

/// The `mdmInfo` object as the simulator stores and echoes it.
public struct SimMDMInfo: Codable, Hashable, Sendable {
    public var id: String
    public var name: String
    public var metadata: String

    public init(id: String, name: String, metadata: String) {
        self.id = id
        self.name = name
        self.metadata = metadata
    }

    /// What Apple Configurator 2 writes (Apple's own example).
    public static let appleConfigurator = SimMDMInfo(
        id: "522d5c43-d3ba-4ea6-8f58-e8c1f3f7d9a2",
        name: "Apple Configurator 2",
        metadata: "2.13.3"
    )
}

/// One asset (adamId + pricingParam) bought on a location.
public struct SimAsset: Codable, Hashable, Sendable {
    public var adamId: String
    public var pricingParam: String
    public var productType: String
    public var totalCount: Int
    public var retiredCount: Int
    public var deviceAssignable: Bool
    public var revocable: Bool
    public var supportedPlatforms: [String]
    /// Store metadata served by the lookup endpoint.
    public var name: String
    public var bundleId: String
    public var version: String

    public init(
        adamId: String,
        pricingParam: String = "STDQ",
        productType: String = "App",
        totalCount: Int,
        retiredCount: Int = 0,
        deviceAssignable: Bool = true,
        revocable: Bool = true,
        supportedPlatforms: [String] = ["iOS"],
        name: String? = nil,
        bundleId: String? = nil,
        version: String = "1.0"
    ) {
        self.adamId = adamId
        self.pricingParam = pricingParam
        self.productType = productType
        self.totalCount = totalCount
        self.retiredCount = retiredCount
        self.deviceAssignable = deviceAssignable
        self.revocable = revocable
        self.supportedPlatforms = supportedPlatforms
        self.name = name ?? "App \(adamId)"
        self.bundleId = bundleId ?? "com.example.app\(adamId)"
        self.version = version
    }

    /// Every field but `adamId` and `totalCount` may be left out of seed files and admin requests.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            adamId: try c.decode(String.self, forKey: .adamId),
            pricingParam: try c.decodeIfPresent(String.self, forKey: .pricingParam) ?? "STDQ",
            productType: try c.decodeIfPresent(String.self, forKey: .productType) ?? "App",
            totalCount: try c.decode(Int.self, forKey: .totalCount),
            retiredCount: try c.decodeIfPresent(Int.self, forKey: .retiredCount) ?? 0,
            deviceAssignable: try c.decodeIfPresent(Bool.self, forKey: .deviceAssignable) ?? true,
            revocable: try c.decodeIfPresent(Bool.self, forKey: .revocable) ?? true,
            supportedPlatforms: try c.decodeIfPresent([String].self, forKey: .supportedPlatforms) ?? ["iOS"],
            name: try c.decodeIfPresent(String.self, forKey: .name),
            bundleId: try c.decodeIfPresent(String.self, forKey: .bundleId),
            version: try c.decodeIfPresent(String.self, forKey: .version) ?? "1.0"
        )
    }

    var key: SimAssetKey { SimAssetKey(adamId: adamId, pricingParam: pricingParam) }
}

struct SimAssetKey: Hashable, Sendable {
    let adamId: String
    let pricingParam: String
}

/// An assignment: one asset to one serial number or one clientUserId.
struct SimAssignment: Hashable, Sendable {
    let asset: SimAssetKey
    let serialNumber: String?
    let clientUserId: String?
    /// The location version at which it was last changed (for `sinceVersionId`).
    var modifiedAtVersion: Int
}

/// A managed user registered on a location.
struct SimUser: Sendable {
    var clientUserId: String
    var email: String?
    var managedAppleId: String?
    var status: String
    var inviteCode: String?
    var idHash: String?
    var modifiedAtVersion: Int
}

/// An asynchronous Apple event (`/status`).
struct SimEvent: Sendable {
    let id: String
    let type: String
    var status: String
    var numRequested: Int
    var numCompleted: Int
    var failures: [SimFailure]
}

struct SimFailure: Sendable {
    let errorNumber: Int
    let errorMessage: String
    var serialNumbers: [String] = []
    var clientUserIds: [String] = []
    var assets: [SimAssetKey] = []
}

/// One minted content token.
struct SimToken: Sendable {
    let bearer: String
    let locationUID: String
    var expiresAt: Date
    var revoked: Bool
}

/// A location ("library") with everything Apple keeps for it.
struct SimLocation: Sendable {
    let uId: String
    var name: String
    var countryCode: String
    var orgName: String
    var mdmInfo: SimMDMInfo?
    var notificationUrl: String?
    var notificationAuthToken: String?
    var notificationTypes: [String] = []
    var assets: [SimAssetKey: SimAsset] = [:]
    var assetOrder: [SimAssetKey] = []
    var assignments: [SimAssignment] = []
    var assignmentIndex: [String: Int] = [:]
    /// Increases whenever `assignments` changes, so a cached filtered walk knows when it is stale.
    var assignmentRevision = 0
    /// Assigned licences per asset, kept with every change (reads must not scan every assignment).
    var assignedByAsset: [SimAssetKey: Int] = [:]
    /// Every licence made or taken back, with its time (bounded), so a test can order Apple's view against an
    /// MDM server's (`GET /sim/licence-log`).
    var licenceLog: [SimLicenceChange] = []
    var users: [SimUser] = []
    var events: [String: SimEvent] = [:]
    /// Increases on every write; `versionIds` maps the opaque ids we hand out back to it.
    var version = 1
    var versionIds: [String: Int] = [:]
    var currentVersionId: String = UUID().uuidString

    init(uId: String, name: String, countryCode: String, orgName: String) {
        self.uId = uId
        self.name = name
        self.countryCode = countryCode
        self.orgName = orgName
        versionIds[currentVersionId] = version
    }

    mutating func bumpVersion() {
        version += 1
        currentVersionId = UUID().uuidString
        versionIds[currentVersionId] = version
    }

    func assignedCount(_ key: SimAssetKey) -> Int { assignedByAsset[key] ?? 0 }

    static func assignmentKey(_ asset: SimAssetKey, serial: String?, user: String?) -> String {
        "\(asset.adamId)|\(asset.pricingParam)|\(serial ?? "")|\(user ?? "")"
    }
}
