import Foundation
import VPPDomain

/// Renew: a new `.vpptoken` for the same location replaces the secret and the expiry, keeps apps and
/// licences, clears expired/revoked/invalid states (and so restarts the notice cycle), and resumes syncing.
public struct RenewToken: Sendable {
    let store: any Store
    let clock: any Clock
    let apple: any AppleAppsAndBooks
    let secrets: any SecretBox
    let tokenCredentials: TokenCredentials
    let auditTrail: AuditTrail

    /// Takes only what this use case touches.
    public init(
        store: any Store,
        clock: any Clock,
        apple: any AppleAppsAndBooks,
        secrets: any SecretBox,
        tokenCredentials: TokenCredentials,
        auditTrail: AuditTrail
    ) {
        self.store = store
        self.clock = clock
        self.apple = apple
        self.secrets = secrets
        self.tokenCredentials = tokenCredentials
        self.auditTrail = auditTrail
    }

    public func callAsFunction(_ caller: Caller, tokenID: TokenID, file: Data) async throws -> ContentToken {
        try caller.require(.manageContentTokens)
        let now = clock.now()
        let parsed = try ContentTokenFile.parse(file, now: now)
        guard var token = try await store.inTenant(caller.tenantID, { tx in try await tx.token(tokenID) })
        else {
            throw StoreError.unknownToken(tokenID)
        }
        let config = try await apple.clientConfig(AppleCredentials(token: parsed.secret, expectedHolder: nil))
        guard config.location.isSameLocation(as: token.location) else {
            await auditTrail.recordSeparately(
                caller,
                AuditEntry(
                    .tokenRenew,
                    .token(location: token.location.name),
                    .refused,
                    "file for \(config.location.name)"
                )
            )
            throw UseCaseError.wrongLocation(expected: token.location.name, got: config.location.name)
        }
        let ours = try await tokenCredentials.holder(of: caller.tenantID)
        token.expiresAt = config.context.tokenExpiresAt ?? parsed.expiresAt
        token.secretFingerprint = parsed.secret.fingerprint
        token.organizationName = parsed.organizationName
        token.location.name = config.location.name
        token.revokedAt = nil
        token.invalidSince = nil
        token.observedHolder = config.context.holder ?? ours
        let sealed = try secrets.seal(parsed.secret.revealForTransport())
        let renewed = token
        try await store.inTenant(caller.tenantID) { tx in
            try await tx.updateToken(renewed)
            try await tx.replaceTokenSecret(tokenID, secret: sealed)
            try await auditTrail.record(
                tx,
                caller,
                AuditEntry(
                    .tokenRenew,
                    .token(location: renewed.location.name),
                    .ok,
                    "expires \(ISO8601Timestamp.format(renewed.expiresAt))"
                )
            )
        }
        // A token uploaded or renewed inside a notice window is told about now, not at the next planning pass.
        try await store.jobs.enqueue(JobRequest(tenantID: caller.tenantID, kind: .notices, key: .tenant, runAt: now))
        if renewed.status(at: now, ourHolder: ours).isUsable {
            try await store.jobs.enqueue(
                JobRequest(tenantID: caller.tenantID, kind: .sync, key: .token(tokenID), runAt: now)
            )
        }
        return renewed
    }
}
