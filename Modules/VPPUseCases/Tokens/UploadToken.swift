import Foundation
import VPPDomain

/// What an upload did, or (dry run) would do.
public struct UploadTokenResult: Sendable {
    public var token: ContentToken?
    public var location: Location
    public var status: TokenStatus
    /// The other holder, when the token is in use elsewhere.
    public var otherHolder: HolderIdentity?
    /// When the other holder is another tenant of this deployment: its name.
    public var otherTenantName: String?
    /// Take-over preview: the licences the other holder assigned, which a take-over revokes.
    public var takeOverPreview: [AppleAssignmentRecord]?
    public var stored: Bool
    public var sync: SyncReport?
}

/// Upload a `.vpptoken`: validate it with Apple, refuse a location the tenant already has, detect a
/// token held elsewhere (and take it over only when asked, with a preview first), store it encrypted,
/// claim it with our `mdmInfo`, configure notifications, and start the first sync.
public struct UploadToken: Sendable {
    let store: any Store
    let clock: any Clock
    let apple: any AppleAppsAndBooks
    let secrets: any SecretBox
    let publicURL: String?
    let tokenCredentials: TokenCredentials
    let auditTrail: AuditTrail
    let sync: SyncToken

    /// Takes only what this use case touches.
    public init(
        store: any Store,
        clock: any Clock,
        apple: any AppleAppsAndBooks,
        secrets: any SecretBox,
        publicURL: String?,
        tokenCredentials: TokenCredentials,
        auditTrail: AuditTrail,
        sync: SyncToken
    ) {
        self.store = store
        self.clock = clock
        self.apple = apple
        self.secrets = secrets
        self.publicURL = publicURL
        self.tokenCredentials = tokenCredentials
        self.auditTrail = auditTrail
        self.sync = sync
    }

    public func callAsFunction(
        _ caller: Caller,
        file: Data,
        noticeRecipients: [String] = [],
        takeOver: Bool = false,
        dryRun: Bool = false,
        syncNow: Bool = true
    ) async throws -> UploadTokenResult {
        try caller.require(.manageContentTokens)
        let now = clock.now()
        let parsed: ContentTokenFile
        do { parsed = try ContentTokenFile.parse(file, now: now) } catch {
            await auditTrail.recordSeparately(caller, AuditEntry(.tokenUpload, .tokenFile, .refused, error.description))
            throw error
        }
        for address in noticeRecipients where !ManagedUser.looksLikeEmail(address) {
            throw IdentifierError.invalidEmail(address)
        }
        let anonymous = AppleCredentials(token: parsed.secret, expectedHolder: nil)
        let config = try await apple.clientConfig(anonymous)
        let location = config.location
        let existing = try await store.inTenant(caller.tenantID) { tx in
            try await tx.token(locationAppleID: location.appleID)
        }
        if existing != nil {
            await auditTrail.recordSeparately(
                caller,
                AuditEntry(.tokenUpload, .token(location: location.name), .refused, "location already present")
            )
            throw StoreError.duplicateLocation(locationName: location.name)
        }
        let ours = try await tokenCredentials.holder(of: caller.tenantID)
        let foreign = config.context.holder.flatMap { $0.isSameHolder(as: ours) ? nil : $0 }
        let otherTenant = try await foreign.asyncFlatMap { try await store.tenant(holderID: $0.id)?.name }
        var token = ContentToken(
            tenantID: caller.tenantID,
            location: location,
            organizationName: parsed.organizationName,
            expiresAt: config.context.tokenExpiresAt ?? parsed.expiresAt,
            secretFingerprint: parsed.secret.fingerprint,
            noticeRecipients: noticeRecipients,
            observedHolder: foreign
        )
        var result = UploadTokenResult(
            token: token,
            location: location,
            status: token.status(at: now, ourHolder: ours),
            otherHolder: foreign,
            otherTenantName: otherTenant,
            stored: false
        )

        if let foreign {
            if takeOver {
                result.takeOverPreview = try await apple.assignments(
                    anonymous,
                    filter: AppleAssignmentFilter()
                ).items
            }
            if dryRun { return result }
            if !takeOver {
                // Keep the token so the admin can take it over later, but grant nothing from it.
                try await store(
                    token,
                    secret: parsed.secret,
                    caller: caller,
                    outcome: .inUseElsewhere,
                    detail: "held by \(foreign)"
                )
                result.stored = true
                return result
            }
            _ = try await TakeOverToken.claimAndRevoke(
                apple,
                anonymous,
                ours: ours,
                previous: result.takeOverPreview ?? []
            )
        } else if dryRun {
            return result
        }
        let notifications = publicURL.map { base in
            AppleNotificationSettings(
                url: "\(base)/apple/notifications/\(token.id)",
                authToken: Self.randomSecret(),
                types: ["ASSET_MANAGEMENT", "ASSET_COUNT", "USER_MANAGEMENT", "USER_ASSOCIATED"]
            )
        }
        // Store first: Apple sends TEST_NOTIFICATION while we configure notifications, and our webhook must
        // already know the token and its secret. If Apple then refuses, the stored token is taken back out.
        try await store(
            token,
            secret: parsed.secret,
            caller: caller,
            outcome: .ok,
            detail: foreign.map { "taken over from \($0)" } ?? "claimed",
            notificationSecret: notifications?.authToken
        )
        do {
            _ = try await apple.updateClientConfig(anonymous, holder: ours, notifications: notifications)
        } catch {
            let stored = token
            try? await store.inTenant(caller.tenantID) { tx in
                try await tx.deleteToken(stored.id)
                try await auditTrail.record(
                    tx,
                    caller,
                    AuditEntry(
                        .tokenUpload,
                        .token(location: stored.location.name),
                        .failed,
                        "Apple refused the claim: \(error)"
                    )
                )
            }
            throw error
        }
        token.observedHolder = ours
        let claimed = token
        try await store.inTenant(caller.tenantID) { tx in try await tx.updateToken(claimed) }
        result.token = token
        result.status = token.status(at: now, ourHolder: ours)
        result.stored = true
        // A token uploaded or renewed inside a notice window is told about now, not at the next planning pass.
        try await store.jobs.enqueue(JobRequest(tenantID: caller.tenantID, kind: .notices, key: .tenant, runAt: now))
        try await store.jobs.enqueue(
            JobRequest(tenantID: caller.tenantID, kind: .sync, key: .token(token.id), runAt: now)
        )
        if syncNow {
            result.sync = try await sync(.system(caller.tenantID), tokenID: token.id)
        }
        return result
    }

    private func store(
        _ token: ContentToken,
        secret: ContentTokenSecret,
        caller: Caller,
        outcome: AuditEntry.Outcome,
        detail: String,
        notificationSecret: String? = nil
    ) async throws {
        let sealed = try secrets.seal(secret.revealForTransport())
        let sealedNotification = try notificationSecret.map { try secrets.seal($0) }
        try await store.inTenant(caller.tenantID) { tx in
            try await tx.insertToken(token, secret: sealed)
            if let sealedNotification { try await tx.setNotificationSecret(token.id, secret: sealedNotification) }
            try await auditTrail.record(
                tx,
                caller,
                AuditEntry(.tokenUpload, .token(location: token.location.name), outcome, detail)
            )
        }
    }

    static func randomSecret() -> String {
        randomHex(bytes: 32)
    }
}

extension Optional {
    func asyncFlatMap<U>(_ transform: (Wrapped) async throws -> U?) async rethrows -> U? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
