import Foundation
import VPPDomain

/// Records what an Apple refusal says about a token, whichever use case met it: revoked, invalid,
/// expired, or claimed by another holder. Such a token then reports that status and grants nothing.
public struct TokenHealth: Sendable {
    let store: any Store
    let clock: any Clock
    let auditTrail: AuditTrail

    public init(store: any Store, clock: any Clock, auditTrail: AuditTrail) {
        self.store = store
        self.clock = clock
        self.auditTrail = auditTrail
    }

    /// Updates the token's facts when `error` disables it; returns whether it did.
    @discardableResult
    func record(_ error: AppleAPIError, tokenID: TokenID, caller: Caller) async throws -> Bool {
        guard error.disablesToken else { return false }
        let now = clock.now()
        try await store.inTenant(caller.tenantID) { tx in
            guard var token = try await tx.token(tokenID) else { return }
            switch error {
            case .tokenRevoked: token.revokedAt = token.revokedAt ?? now
            case .tokenInvalid: token.invalidSince = token.invalidSince ?? now
            case .tokenExpired: token.expiresAt = min(token.expiresAt, now)
            case .claimedByAnotherHolder(let holder): token.observedHolder = holder
            default: return
            }
            try await tx.updateToken(token)
            try await auditTrail.record(
                tx,
                caller,
                AuditEntry(.tokenStatus, .token(location: token.location.name), .changed, error.description)
            )
        }
        // Admins hear of it at once: the notice planner runs for this tenant now, not on a tenant walk.
        try await store.jobs.enqueue(
            JobRequest(tenantID: caller.tenantID, kind: .notices, key: .tenant, runAt: now)
        )
        return true
    }
}
