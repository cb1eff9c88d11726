import Foundation
import Logging
import VPPDomain

/// Sends e-mail (expiry and health notices).
public protocol Mailer: Sendable {
    func send(to recipients: [String], subject: String, body: String) async throws
}

/// Everything the use cases need, injected once by the app's composition root.
public struct VPPServices: Sendable {
    public let store: any Store
    public let apple: any AppleAppsAndBooks
    public let metadata: (any AppMetadataLookup)?
    public let secrets: any SecretBox
    public let clock: any Clock
    public let mailer: (any Mailer)?
    /// vppd's public base URL; Apple's notifications go to `<publicURL>/apple/notifications/<tokenId>`.
    public let publicURL: String?
    public let logger: Logger
    /// How long a worker's claim on the ledger's queued Apple writes lasts (see ``CarryOutAppleIntents``).
    public var intentLease: TimeInterval = 60
    /// Where queued Apple intents are handed for background work, in a server that has one.
    public var intentScheduler: (any IntentScheduler)?

    public init(
        store: any Store, apple: any AppleAppsAndBooks, metadata: (any AppMetadataLookup)?, secrets: any SecretBox,
        clock: any Clock, mailer: (any Mailer)?, publicURL: String?, logger: Logger
    ) {
        self.store = store
        self.apple = apple
        self.metadata = metadata
        self.secrets = secrets
        self.clock = clock
        self.mailer = mailer
        self.publicURL = publicURL
        self.logger = logger
    }

    /// The tenant's identity at Apple (its `mdmInfo`).
    func holder(of tenantID: TenantID) async throws -> HolderIdentity {
        guard let tenant = try await store.tenant(tenantID) else { throw StoreError.unknownTenant }
        return tenant.holderIdentity
    }

    /// Opens a stored token's secret and pairs it with the holder we expect.
    func credentials(
        _ tenantID: TenantID, _ tokenID: TokenID, expectHolder: Bool = true
    ) async throws -> AppleCredentials {
        let sealed = try await store.inTenant(tenantID) { tx in try await tx.tokenSecret(tokenID) }
        guard let sealed else { throw StoreError.unknownToken(tokenID) }
        let secret = ContentTokenSecret(unchecked: try secrets.open(sealed))
        return AppleCredentials(token: secret, expectedHolder: expectHolder ? try await holder(of: tenantID) : nil)
    }

    func audit(
        _ tx: any TenantTransaction, _ caller: Caller, _ action: String, _ target: String, _ outcome: String = "ok",
        _ detail: String = ""
    ) async throws {
        try await tx.appendAudit(
            AuditRecord(
                at: clock.now(), actor: caller.admin.name, action: action, target: target, outcome: outcome,
                detail: detail))
    }

    /// Records an audit line in its own unit of work (for refusals, where the main one rolled back).
    func auditSeparately(
        _ caller: Caller, _ action: String, _ target: String, _ outcome: String, _ detail: String
    ) async {
        do {
            try await store.inTenant(caller.tenantID) { tx in
                try await audit(tx, caller, action, target, outcome, detail)
            }
        } catch {
            logger.warning("could not record audit", metadata: ["action": "\(action)", "error": "\(error)"])
        }
    }
}
