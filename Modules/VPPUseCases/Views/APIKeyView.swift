import Foundation
import VPPDomain

/// An API key's details (never the key) as the CLI's `apikey list --json` and the REST API show them.
public struct APIKeyView: Encodable, Sendable, Hashable {
    public let id: String
    public let name: String
    public let role: String
    public let createdBy: String
    public let createdAt: String
    public let lastUsedAt: String?
    public let expiresAt: String?
    public let revokedAt: String?

    public init(_ details: APIKeyDetails) {
        id = details.id.uuidString.lowercased()
        name = details.name
        role = details.role.rawValue
        createdBy = details.createdBy
        createdAt = ISO8601Timestamp.format(details.createdAt)
        lastUsedAt = details.lastUsedAt.map(ISO8601Timestamp.format)
        expiresAt = details.expiresAt.map(ISO8601Timestamp.format)
        revokedAt = details.revokedAt.map(ISO8601Timestamp.format)
    }
}
