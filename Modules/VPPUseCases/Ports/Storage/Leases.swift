import Foundation
import VPPDomain

/// Named, expiring leases shared by every server on the store (see ``Store``): one holder at a time.
public protocol Leases: Sendable {
    /// Takes the named lease for `ttl` unless another owner holds an unexpired one; returns whether it did.
    /// Used so that one sync per token runs at a time across all servers.
    func acquireLease(tenant: TenantID, name: String, owner: String, now: Date, ttl: TimeInterval) async throws -> Bool
    /// Extends a lease `owner` still holds to `now + ttl` (the holder's heartbeat, so a short lease can
    /// cover long work); returns false, changing nothing, when the lease expired and another owner took it.
    func renewLease(tenant: TenantID, name: String, owner: String, now: Date, ttl: TimeInterval) async throws -> Bool
    /// Gives the lease back (only if `owner` still holds it).
    func releaseLease(tenant: TenantID, name: String, owner: String) async throws
}
