import Foundation
import VPPDomain

/// A refusal of an API-key request that is the caller's to fix.
public enum APIKeyError: Error, Hashable, Sendable, CustomStringConvertible {
    case unknownKey(String)
    case badName(String)
    case expiryInPast

    public var description: String {
        switch self {
        case .unknownKey(let id): "No API key \(id.prefix(40)) in this tenant."
        case .badName(let detail): "The key's name \(detail)."
        case .expiryInPast: "The expiry must be in the future."
        }
    }
}

/// API keys: create (shown once, stored hashed), list, revoke, rotate, and authenticate. Revocation and
/// expiry take effect on every replica at once: authentication reads the key's row on every request (no
/// cache); the last-used time is written at most once a minute per key.
public struct ManageAPIKeys: Sendable {
    let store: any Store
    let clock: any Clock
    let auditTrail: AuditTrail
    /// How stale a key's last-used time may be before a request writes it again.
    public static let lastUsedResolution: TimeInterval = 60

    /// Takes only what this use case touches.
    public init(store: any Store, clock: any Clock, auditTrail: AuditTrail) {
        self.store = store
        self.clock = clock
        self.auditTrail = auditTrail
    }

    /// Creates a key; returns it (never stored or shown again) and its record.
    public func create(
        _ caller: Caller,
        name: String,
        role: Role,
        expiresAt: Date? = nil
    ) async throws -> (key: String, details: APIKeyDetails) {
        try caller.require(.manageTenant)
        try Self.check(name: name)
        let now = clock.now()
        if let expiresAt, expiresAt <= now { throw APIKeyError.expiryInPast }
        let key = "vpp_" + randomHex(bytes: 32)
        let details = APIKeyDetails(
            tenantID: caller.tenantID,
            name: name,
            role: role,
            keyHash: SHA256Digest.hex(of: key),
            createdBy: caller.admin.name,
            createdAt: now,
            expiresAt: expiresAt
        )
        try await store.inTenant(caller.tenantID) { tx in
            try await tx.insertAPIKeyDetails(details)
            try await auditTrail.record(
                tx,
                caller,
                AuditEntry(.apiKeyCreate, .apiKey(name: name), .ok, "role \(role.rawValue)")
            )
        }
        return (key, details)
    }

    public func list(_ caller: Caller) async throws -> [APIKeyDetails] {
        try caller.require(.manageTenant)
        return try await store.inTenant(caller.tenantID) { tx in try await tx.apiKeyDetails() }
    }

    /// Revokes the key (idempotent); from the next request on, on every replica, it is refused.
    public func revoke(_ caller: Caller, id: UUID) async throws -> APIKeyDetails {
        try caller.require(.manageTenant)
        let now = clock.now()
        return try await store.inTenant(caller.tenantID) { tx in
            guard try await tx.revokeAPIKey(id, at: now), let details = try await tx.apiKeyDetails(id) else {
                throw APIKeyError.unknownKey(id.uuidString)
            }
            try await auditTrail.record(tx, caller, AuditEntry(.apiKeyRevoke, .apiKey(name: details.name)))
            return details
        }
    }

    /// Replaces the key with a new one of the same name, role and expiry, and revokes the old one, in one
    /// unit of work. Returns the new key (shown once).
    public func rotate(_ caller: Caller, id: UUID) async throws -> (key: String, details: APIKeyDetails) {
        try caller.require(.manageTenant)
        let now = clock.now()
        let key = "vpp_" + randomHex(bytes: 32)
        let details: APIKeyDetails = try await store.inTenant(caller.tenantID) { tx in
            guard let old = try await tx.apiKeyDetails(id), old.revokedAt == nil else {
                throw APIKeyError.unknownKey(id.uuidString)
            }
            let new = APIKeyDetails(
                tenantID: caller.tenantID,
                name: old.name,
                role: old.role,
                keyHash: SHA256Digest.hex(of: key),
                createdBy: caller.admin.name,
                createdAt: now,
                expiresAt: old.expiresAt
            )
            _ = try await tx.revokeAPIKey(id, at: now)
            try await tx.insertAPIKeyDetails(new)
            try await auditTrail.record(tx, caller, AuditEntry(.apiKeyRotate, .apiKey(name: old.name)))
            return new
        }
        return (key, details)
    }

    /// The caller an API key stands for; `nil` for an unknown, revoked or expired key (401 without detail).
    public func authenticate(_ apiKey: String) async throws -> Caller? {
        guard apiKey.hasPrefix("vpp_"), apiKey.utf8.count < 200,
            let details = try await store.apiKeyDetails(hash: SHA256Digest.hex(of: apiKey))
        else { return nil }
        let now = clock.now()
        guard details.isUsable(at: now) else { return nil }
        if (details.lastUsedAt.map { now.timeIntervalSince($0) >= Self.lastUsedResolution }) ?? true {
            try await store.touchAPIKey(details.id, at: now, unlessWithin: Self.lastUsedResolution)
        }
        return Caller(
            tenantID: details.tenantID,
            admin: Admin(tenantID: details.tenantID, name: "api-key:\(details.name)", role: details.role)
        )
    }

    static func check(name: String) throws {
        guard (1...100).contains(name.count) else { throw APIKeyError.badName("must be 1 to 100 characters") }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw APIKeyError.badName("must not contain control characters")
        }
    }
}
