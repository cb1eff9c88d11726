import Foundation
import VPPDomain

/// A token as the CLI's `--json` and the REST API show it: stable field names, no secret (a fingerprint).
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
