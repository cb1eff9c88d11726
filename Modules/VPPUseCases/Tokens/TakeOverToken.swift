import Foundation
import VPPDomain

/// Take over a stored token that another MDM (or Apple Configurator, or another tenant) holds.
/// The dry run lists the licences the other holder assigned; applying needs `confirm: true`, writes our
/// `mdmInfo`, revokes those licences, and syncs.
public struct TakeOverToken: Sendable {
    let store: any Store
    let clock: any Clock
    let apple: any AppleAppsAndBooks
    let tokenCredentials: TokenCredentials
    let auditTrail: AuditTrail
    let sync: SyncToken

    /// Takes only what this use case touches.
    public init(
        store: any Store,
        clock: any Clock,
        apple: any AppleAppsAndBooks,
        tokenCredentials: TokenCredentials,
        auditTrail: AuditTrail,
        sync: SyncToken
    ) {
        self.store = store
        self.clock = clock
        self.apple = apple
        self.tokenCredentials = tokenCredentials
        self.auditTrail = auditTrail
        self.sync = sync
    }

    public struct Result: Sendable {
        public var holder: HolderIdentity?
        public var licencesToRevoke: [AppleAssignmentRecord]
        public var applied: Bool
        public var sync: SyncReport?
    }

    public func callAsFunction(
        _ caller: Caller,
        tokenID: TokenID,
        confirm: Bool,
        dryRun: Bool = false
    ) async throws -> Result {
        try caller.require(.manageContentTokens)
        guard var token = try await store.inTenant(caller.tenantID, { tx in try await tx.token(tokenID) })
        else {
            throw StoreError.unknownToken(tokenID)
        }
        let credentials = try await tokenCredentials.open(caller.tenantID, tokenID, expectHolder: false)
        let ours = try await tokenCredentials.holder(of: caller.tenantID)
        let config = try await apple.clientConfig(credentials)
        guard let holder = config.context.holder, !holder.isSameHolder(as: ours) else {
            throw UseCaseError.nothingToTakeOver(location: token.location.name)
        }
        let preview = try await apple.assignments(credentials, filter: AppleAssignmentFilter()).items
        var result = Result(holder: holder, licencesToRevoke: preview, applied: false)
        if dryRun { return result }
        guard confirm else { throw UseCaseError.takeOverNeedsConfirmation(holder: holder) }
        _ = try await Self.claimAndRevoke(apple, credentials, ours: ours, previous: preview)
        token.observedHolder = ours
        let now = clock.now()
        let claimed = token
        try await store.inTenant(caller.tenantID) { tx in
            try await tx.updateToken(claimed)
            try await auditTrail.record(
                tx,
                caller,
                AuditEntry(
                    .tokenTakeOver,
                    .token(location: claimed.location.name),
                    .ok,
                    "from \(holder); \(preview.count) licence(s) revoked"
                )
            )
        }
        result.applied = true
        try await store.jobs.enqueue(
            JobRequest(tenantID: caller.tenantID, kind: .sync, key: .token(tokenID), runAt: now)
        )
        result.sync = try await sync(.system(caller.tenantID), tokenID: tokenID)
        return result
    }

    /// Writes our `mdmInfo` and revokes what the previous holder assigned (every revocable asset of those devices
    /// and users).
    static func claimAndRevoke(
        _ apple: any AppleAppsAndBooks,
        _ credentials: AppleCredentials,
        ours: HolderIdentity,
        previous: [AppleAssignmentRecord]
    ) async throws -> [AppleEventTicket] {
        _ = try await apple.updateClientConfig(credentials, holder: ours, notifications: nil)
        var serials = Set<String>()
        var users = Set<String>()
        for record in previous {
            switch record.assignee {
            case .serialNumber(let s): serials.insert(s)
            case .clientUserID(let u): users.insert(u)
            }
        }
        guard !serials.isEmpty || !users.isEmpty else { return [] }
        let claimed = AppleCredentials(token: credentials.token, expectedHolder: ours)
        return try await apple.revoke(claimed, serialNumbers: serials.sorted(), clientUserIDs: users.sorted())
    }
}
