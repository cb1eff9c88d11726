import Foundation
import Logging
import ServiceLifecycle
import VPPDomain
import VPPUseCases

/// Background work, shared by every replica through the job queue: scheduled syncs, Apple event
/// polling, notice planning and delivery. Each replica schedules (enqueueing is idempotent) and claims
/// (leases make sure one replica runs each job); on shutdown claimed jobs are released at once.
struct BackgroundWorkers: Service {
    let services: VPPServices
    let interval: TimeInterval
    let metrics: ServerMetrics
    let logger: Logger
    let owner = "vppd-\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    let tick: Duration = .seconds(2)
    let lease: TimeInterval = 600

    func run() async throws {
        logger.info("background workers started", metadata: ["owner": "\(owner)"])
        var lastSchedule = Date.distantPast
        var lastNoticePlan = Date.distantPast
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = services.clock.now()
            if now.timeIntervalSince(lastSchedule) >= 30 {
                let planNotices = now.timeIntervalSince(lastNoticePlan) >= 600
                await schedule(now: now, planNotices: planNotices)
                if planNotices { lastNoticePlan = now }
                lastSchedule = now
            }
            await runDueJobs()
            // Queued Apple writes of every tenant, found by one indexed query (a dead server's resume here).
            await CarryOutAppleIntents(services: services).runDue()
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: tick) } } catch { break }
        }
        logger.info("background workers stopped")
    }

    /// Queues what is due, found by indexed queries across all tenants (``Store/dueWork(now:syncInterval:retryAfter:limit:)``):
    /// a tenant with nothing due costs nothing. Enqueueing is idempotent, so every replica may do it.
    /// Notice planning runs at most every ten minutes per replica.
    func schedule(now: Date, planNotices: Bool) async {
        do {
            let due = try await services.store.dueWork(
                now: now, syncInterval: interval, retryAfter: min(interval, 900), limit: 5000)
            for token in due.syncs {
                try await services.store.jobs.enqueue(
                    JobRequest(
                        tenantID: token.tenantID, kind: .sync, key: token.tokenID.description,
                        runAt: now))
            }
            for tenant in due.eventPolls {
                try await services.store.jobs.enqueue(
                    JobRequest(tenantID: tenant, kind: .pollEvents, key: "all", runAt: now))
            }
            for tenant in Set(due.noticeDeliveries + (planNotices ? due.noticePlans : [])) {
                try await services.store.jobs.enqueue(
                    JobRequest(tenantID: tenant, kind: .notices, key: "all", runAt: now))
            }
            metrics.queueDepth(try await services.store.jobs.depth())
        } catch {
            logger.warning("scheduling failed", metadata: ["error": "\(error)"])
        }
    }

    func runDueJobs() async {
        let claimed: [ClaimedJob]
        do {
            claimed = try await services.store.jobs.claim(
                owner: owner, now: services.clock.now(), lease: lease, limit: 4)
        } catch {
            logger.warning("claiming jobs failed", metadata: ["error": "\(error)"])
            return
        }
        for job in claimed {
            if Task.isShuttingDownGracefully {
                // Give the job back for another replica instead of starting it.
                try? await services.store.jobs.retry(job, at: services.clock.now(), error: "released at shutdown")
                continue
            }
            do {
                try await perform(job)
                try await services.store.jobs.complete(job)
                metrics.job(kind: job.kind.rawValue, outcome: "ok")
            } catch {
                let delay = min(3600, 30 * pow(2, Double(job.attempts - 1)))
                try? await services.store.jobs.retry(
                    job, at: services.clock.now().addingTimeInterval(delay), error: "\(error)")
                metrics.job(kind: job.kind.rawValue, outcome: "failed")
                logger.warning(
                    "job failed", metadata: ["kind": "\(job.kind)", "key": "\(job.key)", "error": "\(error)"])
            }
        }
    }

    func perform(_ job: ClaimedJob) async throws {
        switch job.kind {
        case .sync:
            guard let id = TokenID(uuidString: job.key) else { return }
            do {
                _ = try await SyncToken(services: services)(.system(job.tenantID), tokenID: id)
            } catch UseCaseError.tokenUnusable, StoreError.unknownToken {
                return  // nothing to do: the status already tells the admin
            }
        case .pollEvents:
            _ = try await ProcessAppleEvent(services: services).pollDue(job.tenantID)
        case .notices:
            _ = try await PlanNotices(services: services)(job.tenantID)
            _ = try await DeliverNotices(services: services)(job.tenantID)
        case .appleIntents:
            await CarryOutAppleIntents(services: services).runDue()
        case .deliverCommands, .mdmEvents, .reclaimUnenrolled:
            try await performMDMJob(job)
        }
    }
}
