import Foundation
import Logging
import VPPDomain

/// Carries out one claimed background job with the use case its kind names.
public struct PerformJob: Sendable {
    let sync: SyncToken
    let events: ProcessAppleEvent
    let planNotices: PlanNotices
    let deliverNotices: DeliverNotices
    let deliverCommands: DeliverDeviceCommands
    /// The tenants' declaration-set changes, carried out with their device commands (nil: not wired).
    let deliverDeclarations: DeliverDeclarations?
    /// Devices' declarative status read back from KMFDDM, with the same job (nil: not wired).
    let pollDeclarationStatus: PollDeclarationStatus?
    let mdmEvents: ProcessMDMEvents
    let reclaim: ReclaimUnenrolledDevices
    let reconcile: ReconcileScopes
    let logger: Logger

    /// Takes the use cases the job kinds name.
    public init(
        sync: SyncToken,
        events: ProcessAppleEvent,
        planNotices: PlanNotices,
        deliverNotices: DeliverNotices,
        deliverCommands: DeliverDeviceCommands,
        mdmEvents: ProcessMDMEvents,
        reclaim: ReclaimUnenrolledDevices,
        reconcile: ReconcileScopes,
        logger: Logger,
        deliverDeclarations: DeliverDeclarations? = nil,
        pollDeclarationStatus: PollDeclarationStatus? = nil
    ) {
        self.deliverDeclarations = deliverDeclarations
        self.pollDeclarationStatus = pollDeclarationStatus
        self.reconcile = reconcile
        self.sync = sync
        self.events = events
        self.planNotices = planNotices
        self.deliverNotices = deliverNotices
        self.deliverCommands = deliverCommands
        self.mdmEvents = mdmEvents
        self.reclaim = reclaim
        self.logger = logger
    }

    /// Runs `job`; throws when it should be tried again. `owner` names this server's claims on device commands.
    public func callAsFunction(_ job: ClaimedJob, owner: String) async throws {
        switch job.kind {
        case .sync:
            guard let id = job.key.tokenID else { return }
            do {
                // Queued syncs (the schedule, Apple's notifications) follow the change: an ASSET_COUNT's delta is
                // applied when it arrives, and the catalogue is read whole once per catalogue period.
                _ = try await sync(.system(job.tenantID), tokenID: id, catalogue: .whenDue)
            } catch UseCaseError.tokenUnusable, StoreError.unknownToken {
                return  // nothing to retry: the token's status already tells the admin, or the token is gone
            }
        case .pollEvents:
            _ = try await events.pollDue(job.tenantID)
        case .notices:
            _ = try await planNotices(job.tenantID)
            _ = try await deliverNotices(job.tenantID)
        case .deliverCommands:
            let outcome = try await deliverCommands(job.tenantID, owner: owner)
            if outcome.delivered + outcome.failed > 0 {
                logger.info(
                    "device commands",
                    metadata: [
                        "delivered": "\(outcome.delivered)", "retried": "\(outcome.retried)",
                        "failed": "\(outcome.failed)", "skipped": "\(outcome.skipped)",
                    ]
                )
            }
            if let deliverDeclarations {
                let changes = try await deliverDeclarations(job.tenantID, owner: owner)
                if changes.joined + changes.left + changes.failed > 0 {
                    logger.info(
                        "declaration set changes",
                        metadata: [
                            "joined": "\(changes.joined)", "left": "\(changes.left)",
                            "retried": "\(changes.retried)", "failed": "\(changes.failed)",
                        ]
                    )
                }
            }
            if let pollDeclarationStatus {
                // Its own failures are recorded per enrollment and backed off: they do not retry the commands' job.
                do {
                    _ = try await pollDeclarationStatus(job.tenantID)
                } catch {
                    logger.warning("reading declarative status failed", metadata: ["error": "\(error)"])
                }
            }
        case .mdmEvents:
            _ = try await mdmEvents(job.tenantID)
        case .reclaimUnenrolled:
            _ = try await reclaim(.system(job.tenantID), dryRun: false)
        case .reconcileScopes:
            try await reconcile(job.tenantID)
        }
    }
}
