import Foundation
import Logging
import VPPDomain

/// The background step for one tenant: reads its DDM server's settings, opens the key, and carries out its due
/// declaration-set changes there (``DeliverDeclarationSetChanges``). A tenant without a DDM server keeps its
/// changes queued, visible in `vppctl declaration list`.
public struct DeliverDeclarations: Sendable {
    let store: any Store
    let clock: any Clock
    let secrets: any SecretBox
    let logger: Logger
    let publishers: any DeclarationPublisherFactory

    /// Takes only what this use case touches.
    public init(
        store: any Store,
        clock: any Clock,
        secrets: any SecretBox,
        logger: Logger,
        publishers: any DeclarationPublisherFactory
    ) {
        self.store = store
        self.clock = clock
        self.secrets = secrets
        self.logger = logger
        self.publishers = publishers
    }

    /// Carries out the tenant's due changes; nothing when it has no DDM server. `owner` names this server's claims.
    @discardableResult
    public func callAsFunction(_ tenantID: TenantID, owner: String) async throws -> DeliverDeclarationSetChanges.Outcome
    {
        let settings = try await store.inTenant(tenantID) { tx in try await tx.declarationPublisher() }
        guard settings.kind != .off, let url = settings.url, let sealed = settings.apiKey else {
            return DeliverDeclarationSetChanges.Outcome()
        }
        let key = try secrets.open(sealed)
        let (store, clock, logger) = (store, clock, logger)
        return try await publishers.withPublisher(settings.kind, url: url, apiKey: key) { publisher in
            try await DeliverDeclarationSetChanges(store: store, clock: clock, logger: logger, publisher: publisher)(
                tenantID,
                owner: owner
            )
        }
    }
}
