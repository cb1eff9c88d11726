import Foundation
import VPPDomain

/// Take over a stored token that another MDM (or Apple Configurator, or another tenant) holds.
/// The dry run lists the licences the other holder assigned; applying needs `confirm: true`, writes our
/// `mdmInfo`, revokes those licences, and syncs.
public struct TakeOverToken: Sendable {
    let services: VPPServices

    public init(services: VPPServices) { self.services = services }

    public struct Result: Sendable {
        public var holder: HolderIdentity?
        public var licencesToRevoke: [AppleAssignmentRecord]
        public var applied: Bool
        public var sync: SyncReport?
    }

    public func callAsFunction(
        _ caller: Caller, tokenID: TokenID, confirm: Bool, dryRun: Bool = false
    ) async throws -> Result {
        try caller.require(.manageContentTokens)
        guard var token = try await services.store.inTenant(caller.tenantID, { tx in try await tx.token(tokenID) })
        else {
            throw StoreError.unknownToken(tokenID)
        }
        let credentials = try await services.credentials(caller.tenantID, tokenID, expectHolder: false)
        let ours = try await services.holder(of: caller.tenantID)
        let config = try await services.apple.clientConfig(credentials)
        guard let holder = config.context.holder, !holder.isSameHolder(as: ours) else {
            throw UseCaseError.nothingToTakeOver(location: token.location.name)
        }
        let preview = try await services.apple.assignments(credentials, filter: AppleAssignmentFilter()).items
        var result = Result(holder: holder, licencesToRevoke: preview, applied: false)
        if dryRun { return result }
        guard confirm else { throw UseCaseError.takeOverNeedsConfirmation(holder: holder) }
        _ = try await Self.claimAndRevoke(services, credentials, ours: ours, previous: preview)
        token.observedHolder = ours
        let now = services.clock.now()
        let claimed = token
        try await services.store.inTenant(caller.tenantID) { tx in
            try await tx.updateToken(claimed)
            try await services.audit(
                tx, caller, "token.take-over", claimed.location.name, "ok",
                "from \(holder); \(preview.count) licence(s) revoked")
        }
        result.applied = true
        try await services.store.jobs.enqueue(
            JobRequest(tenantID: caller.tenantID, kind: .sync, key: tokenID.description, runAt: now))
        result.sync = try await SyncToken(services: services)(.system(caller.tenantID), tokenID: tokenID)
        return result
    }

    /// Writes our `mdmInfo` and revokes what the previous holder assigned (every revocable asset of those devices and users).
    static func claimAndRevoke(
        _ services: VPPServices, _ credentials: AppleCredentials, ours: HolderIdentity,
        previous: [AppleAssignmentRecord]
    ) async throws -> [AppleEventTicket] {
        _ = try await services.apple.updateClientConfig(credentials, holder: ours, notifications: nil)
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
        return try await services.apple.revoke(claimed, serialNumbers: serials.sorted(), clientUserIDs: users.sorted())
    }
}
