import Foundation
import VPPDomain

/// An API key as its tenant's admins see it (never the key itself, only its hash is stored).
public struct APIKeyDetails: Hashable, Sendable {
    public let id: UUID
    public let tenantID: TenantID
    public var name: String
    public var role: Role
    /// Lower-case hex SHA-256 of the whole key.
    public var keyHash: String
    /// Who created it (an admin's or key's name).
    public var createdBy: String
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var expiresAt: Date?
    public var revokedAt: Date?

    public init(
        id: UUID = UUID(),
        tenantID: TenantID,
        name: String,
        role: Role,
        keyHash: String,
        createdBy: String,
        createdAt: Date,
        lastUsedAt: Date? = nil,
        expiresAt: Date? = nil,
        revokedAt: Date? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.role = role
        self.keyHash = keyHash
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    /// Usable at `now`: not revoked and not past its expiry.
    public func isUsable(at now: Date) -> Bool { revokedAt == nil && (expiresAt.map { now < $0 } ?? true) }
}

/// Where a sealed secret lives, for re-encryption under a new key.
public struct SealedSecretColumn: Hashable, Sendable {
    public let table: String
    public let keyIDColumn: String
    public let secretColumn: String

    public init(table: String, keyIDColumn: String, secretColumn: String) {
        self.table = table
        self.keyIDColumn = keyIDColumn
        self.secretColumn = secretColumn
    }
}

/// API-key management and key checks: rows inside one tenant's unit of work (see TenantTransaction).
public protocol AccessRecords: Sendable {
    /// Records a key in its first form (name, role, hash; ``insertAPIKeyDetails(_:)`` adds expiry and scope).
    func insertAPIKey(_ key: APIKeyRecord) async throws
    func apiKeys() async throws -> [APIKeyRecord]
    func insertAPIKeyDetails(_ key: APIKeyDetails) async throws
    func apiKeyDetails() async throws -> [APIKeyDetails]
    func apiKeyDetails(_ id: UUID) async throws -> APIKeyDetails?
    /// Marks the key revoked at `at`; false when there is no such key in the tenant.
    func revokeAPIKey(_ id: UUID, at: Date) async throws -> Bool
}

/// API-key management and key checks: lookups that are not scoped to one tenant (see Store).
public protocol AccessDirectory: Sendable {
    /// The key with this hash (revoked and expired ones included: the caller decides).
    func apiKeyDetails(hash: String) async throws -> APIKeyDetails?
    /// Records a use; writes only when the stored time is older than `unlessWithin` seconds (one write
    /// per key per minute, not per request).
    func touchAPIKey(_ id: UUID, at: Date, unlessWithin: TimeInterval) async throws
    /// The encryption key check value, if one was stored.
    func encryptionKeyCheck() async throws -> SealedSecret?
    /// Stores the check value unless one exists (`replace: false`) or always (`replace: true`); returns
    /// the value now stored.
    func storeEncryptionKeyCheck(_ sealed: SealedSecret, replace: Bool, at: Date) async throws -> SealedSecret
    /// One stored content-token secret, if any (to check a key on a database that predates the check value).
    func sampleSealedSecret() async throws -> SealedSecret?
    /// Every column pair holding sealed secrets that this store knows.
    var sealedSecretColumns: [SealedSecretColumn] { get }
    /// Re-seals, in `column`, every secret whose key id is not `currentKeyID`, with `reseal`; returns how many.
    func resealSecrets(
        in column: SealedSecretColumn,
        currentKeyID: String,
        _ reseal: @Sendable (SealedSecret) throws -> SealedSecret
    ) async throws -> Int
}
