import Foundation
import Logging
import ServiceLifecycle
import VPPComposition
import VPPDomain
import VPPUseCases

extension BackgroundWorkers {
    /// The MDM jobs: deliver device commands, process recorded webhook events, reclaim unenrolled devices' licences.
    func performMDMJob(_ job: ClaimedJob) async throws {
        switch job.kind {
        case .deliverCommands:
            let outcome = try await DeliverDeviceCommands(services: services, deliveries: MDMDeliveries())(
                job.tenantID, owner: owner)
            if outcome.delivered + outcome.failed > 0 {
                logger.info(
                    "device commands",
                    metadata: [
                        "delivered": "\(outcome.delivered)", "retried": "\(outcome.retried)",
                        "failed": "\(outcome.failed)", "skipped": "\(outcome.skipped)",
                    ])
            }
        case .mdmEvents:
            _ = try await ProcessMDMEvents(services: services)(job.tenantID)
        case .reclaimUnenrolled:
            _ = try await ReclaimUnenrolledDevices(services: services)(.system(job.tenantID), dryRun: false)
        default:
            return
        }
    }
}

/// Looks for MDM work every second (queued commands that are due, recorded webhook events) and queues
/// the jobs that do it; the shared job queue makes sure one replica runs each. A cheap indexed query, so
/// commands reach the MDM server within seconds of Apple's confirmation, whichever replica learnt of it.
struct MDMWorkPump: Service {
    let services: VPPServices
    let logger: Logger
    var interval: Duration = .seconds(1)

    func run() async throws {
        var lastSweep = Date.distantPast
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = services.clock.now()
            do {
                for tenant in try await services.store.tenantsWithMDMWork(now: now) {
                    let key = ReceiveMDMWebhook.jobKey(at: now)
                    try await services.store.jobs.enqueue(
                        JobRequest(tenantID: tenant, kind: .deliverCommands, key: key, runAt: now))
                    try await services.store.jobs.enqueue(
                        JobRequest(tenantID: tenant, kind: .mdmEvents, key: key, runAt: now))
                }
                // Every 10 minutes: silent devices and grace periods that ran out while no CheckOut arrived.
                if now.timeIntervalSince(lastSweep) >= 600 {
                    for tenant in try await services.store.tenantsWithMDMConnection() {
                        try await services.store.jobs.enqueue(
                            JobRequest(
                                tenantID: tenant, kind: .reclaimUnenrolled,
                                key: "sweep-\(ReceiveMDMWebhook.jobKey(at: now))", runAt: now))
                    }
                    lastSweep = now
                }
            } catch {
                logger.warning("MDM work check failed", metadata: ["error": "\(error)"])
            }
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { break }
        }
    }
}
