import Foundation
import Logging
import ServiceLifecycle
import VPPComposition
import VPPDomain
import VPPUseCases

/// The background workers' loop, shared by every replica through the job queue. What is due, which use case
/// runs a job and how failures back off are use cases (``ScheduleDueWork``, ``RunDueJobs``, ``PerformJob``);
/// this process only ticks, stops gracefully and counts.
struct BackgroundWorkers: Service {
    let schedule: ScheduleDueWork
    let jobs: RunDueJobs
    let intents: CarryOutAppleIntents
    let missedNotifications: MissedAppleNotifications
    let store: any Store
    let clock: any Clock
    let metrics: ServerMetrics
    let logger: Logger
    let owner = "vppd-\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    let tick: Duration = .seconds(2)

    init(useCases: UseCases, metrics: ServerMetrics, logger: Logger) {
        schedule = useCases.scheduleDueWork
        jobs = useCases.runDueJobs
        intents = useCases.carryOutAppleIntents
        missedNotifications = useCases.missedNotifications
        store = useCases.ports.store
        clock = useCases.ports.clock
        self.metrics = metrics
        self.logger = logger
    }

    func run() async throws {
        logger.info("background workers started", metadata: ["owner": "\(owner)"])
        // Scheduling every 30 s is cheap (indexed queries); notice planning every 10 minutes per replica.
        var scheduling = Cadence(every: 30)
        var noticePlanning = Cadence(every: 600)
        // The planner's statistics of tables that grow faster than autovacuum looks (one catalogue read a pass).
        var statistics = Cadence(every: 2)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = clock.now()
            // Events whose notification was refused during an outage: polled as soon as the database answers.
            if !missedNotifications.isEmpty { await missedNotifications.catchUp(store: store, now: now) }
            if scheduling.fire(at: now) {
                do {
                    let queued = try await schedule(now: now, planNotices: noticePlanning.fire(at: now))
                    metrics.queueDepth(queued.queueDepth)
                } catch {
                    logger.warning("scheduling failed", metadata: ["error": "\(error)"])
                }
            }
            if statistics.fire(at: now) {
                do {
                    let refreshed = try await store.refreshStatistics()
                    if !refreshed.isEmpty {
                        logger.debug("refreshed planner statistics", metadata: ["tables": "\(refreshed)"])
                    }
                } catch {
                    logger.warning("refreshing planner statistics failed", metadata: ["error": "\(error)"])
                }
            }
            let results = await jobs(owner: owner, stopping: { Task.isShuttingDownGracefully })
            for result in results where result.outcome != .released {
                metrics.job(kind: result.kind.rawValue, outcome: result.outcome.rawValue)
            }
            // Queued Apple writes of every tenant, found by one indexed query (a dead server's resume here).
            await intents.runDue()
            // A full batch means more is probably due: go again at once (10,000 tenants' syncs due together
            // took an hour when every batch of four waited for the next tick).
            if results.count == jobs.batch { continue }
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: tick) } } catch { break }
        }
        logger.info("background workers stopped")
    }
}
