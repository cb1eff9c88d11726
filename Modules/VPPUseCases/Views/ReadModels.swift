import Foundation
import VPPDomain

/// JSON shapes shared by the CLI's `--json` and the REST API: stable field names, no secrets.
public struct TokenView: Encodable, Sendable, Hashable {
    public let id: String
    public let location: String
    public let locationId: String
    public let country: String
    public let organization: String
    public let expiresAt: String
    public let daysLeft: Int
    public let status: String
    public let nextStep: String
    public let holder: String?
    public let fingerprint: String
    public let apps: Int
    public let lastSync: String?
    public let lastSyncError: String?
    public let noticeRecipients: [String]

    public init(_ overview: TokenOverview, now: Date) {
        let token = overview.token
        id = token.id.description
        location = token.location.name
        locationId = token.location.appleID
        country = token.location.countryCode
        organization = token.organizationName
        expiresAt = ISO8601Timestamp.format(token.expiresAt)
        daysLeft = ContentToken.wholeDaysLeft(until: token.expiresAt, from: now)
        status = overview.status.code
        nextStep = overview.nextStep
        holder = token.observedHolder.map { "\($0)" }
        fingerprint = "sha256:\(token.secretFingerprint)"
        apps = overview.appCount
        lastSync = overview.sync?.lastSuccessAt.map(ISO8601Timestamp.format)
        lastSyncError = overview.sync?.lastError
        noticeRecipients = token.noticeRecipients
    }
}

public struct AppView: Encodable, Sendable, Hashable {
    public let adamId: String
    public let pricingParam: String
    public let name: String?
    public let bundleId: String?
    public let version: String?
    public let iconUrl: String?
    public let productType: String
    public let platforms: [String]
    public let deviceAssignable: Bool
    public let revocable: Bool
    public let total: Int
    public let assigned: Int
    public let available: Int

    public init(_ app: AppRecord, pool: LicenceCounts) {
        adamId = app.asset.key.adamID
        pricingParam = app.asset.key.pricingParam.rawValue
        name = app.metadata?.name
        bundleId = app.metadata?.bundleID
        version = app.metadata?.version
        iconUrl = app.metadata?.iconURL?.absoluteString
        productType = app.asset.productType.rawValue
        platforms = app.asset.platforms.map(\.rawValue).sorted()
        deviceAssignable = app.asset.isDeviceAssignable
        revocable = app.asset.isRevocable
        total = pool.total
        assigned = pool.assigned
        available = pool.available
    }
}

public struct LicenceView: Encodable, Sendable, Hashable {
    public let id: String
    public let adamId: String
    public let serialNumber: String?
    public let clientUserId: String?
    public let tokenId: String
    public let state: String
    public let detail: String?

    public init(_ assignment: Assignment) {
        id = assignment.id.description
        adamId = assignment.asset.adamID
        switch assignment.assignee {
        case .device(let s):
            serialNumber = s.value
            clientUserId = nil
        case .user(let u):
            serialNumber = nil
            clientUserId = u.value
        }
        tokenId = assignment.grantingToken.description
        state = assignment.state.code
        switch assignment.state {
        case .failed(let reason): detail = reason
        case .pending(let event), .revoking(let event): detail = "Apple event \(event)"
        default: detail = nil
        }
    }
}

public struct DeviceView: Encodable, Sendable, Hashable {
    public let serialNumber: String
    public let name: String?
    public let installedAdamIds: [String]
    public let retired: Bool
    /// manual, enrolling, enrolled or unenrolled (from the MDM server's webhook).
    public let enrollment: String
    /// The MDM enrollment id (UDID) commands are addressed to.
    public let udid: String?
    public let model: String?
    public let osVersion: String?
    /// ISO 8601.
    public let lastSeenAt: String?

    public init(_ device: Device) {
        serialNumber = device.serialNumber.value
        name = device.name
        installedAdamIds = device.installedAdamIDs.sorted()
        retired = device.isRetired
        enrollment = device.enrollment.state.rawValue
        udid = device.enrollment.enrollmentID
        model = device.enrollment.model
        osVersion = device.enrollment.osVersion
        lastSeenAt = device.enrollment.lastSeenAt.map(ISO8601Timestamp.format)
    }
}

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

/// Read-only queries behind the listings.
public struct Catalogue: Sendable {
    let store: any Store
    let tokenCredentials: TokenCredentials
    let poolReader: LicencePoolReader

    /// Takes only what this use case touches.
    public init(store: any Store, tokenCredentials: TokenCredentials, poolReader: LicencePoolReader) {
        self.store = store
        self.tokenCredentials = tokenCredentials
        self.poolReader = poolReader
    }

    public func apps(_ caller: Caller) async throws -> [AppView] {
        try caller.require(.read)
        let ours = try await tokenCredentials.holder(of: caller.tenantID)
        return try await store.inTenant(caller.tenantID) { tx in
            let pools = try await poolReader.pools(tx, ours: ours)
            return try await tx.apps().map { AppView($0, pool: pools[$0.asset.key]?.usableCounts ?? .zero) }
        }
    }

    public func licences(_ caller: Caller, asset: AssetKey? = nil) async throws -> [LicenceView] {
        try caller.require(.read)
        return try await store.inTenant(caller.tenantID) { tx in
            try await tx.assignments(AssignmentQuery(asset: asset)).map(LicenceView.init)
        }
    }

    public func auditLog(_ caller: Caller, limit: Int = 50) async throws -> [AuditRecord] {
        try caller.require(.read)
        return try await store.inTenant(caller.tenantID) { tx in try await tx.auditLog(limit: limit) }
    }
}
