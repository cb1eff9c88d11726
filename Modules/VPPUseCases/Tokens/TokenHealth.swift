import Foundation
import VPPDomain

/// Records what an Apple refusal says about a token, whichever use case met it: revoked, invalid,
/// expired, or claimed by another holder. Such a token then reports that status and grants nothing.
enum TokenHealth {
    /// Updates the token's facts when `error` disables it; returns whether it did.
    @discardableResult
    static func record(
        _ error: AppleAPIError, tokenID: TokenID, caller: Caller, services: VPPServices
    ) async throws -> Bool {
        guard error.disablesToken else { return false }
        let now = services.clock.now()
        try await services.store.inTenant(caller.tenantID) { tx in
            guard var token = try await tx.token(tokenID) else { return }
            switch error {
            case .tokenRevoked: token.revokedAt = token.revokedAt ?? now
            case .tokenInvalid: token.invalidSince = token.invalidSince ?? now
            case .tokenExpired: token.expiresAt = min(token.expiresAt, now)
            case .claimedByAnotherHolder(let holder): token.observedHolder = holder
            default: return
            }
            try await tx.updateToken(token)
            try await services.audit(tx, caller, "token.status", token.location.name, "changed", error.description)
        }
        // Admins hear of it at once: the notice planner runs for this tenant now, not on a tenant walk.
        try await services.store.jobs.enqueue(
            JobRequest(tenantID: caller.tenantID, kind: .notices, key: "all", runAt: now))
        return true
    }
}
