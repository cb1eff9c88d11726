import Foundation
import Logging
import ServiceLifecycle
import VPPComposition
import VPPDomain
import VPPUseCases

/// Looks for MDM work every second and queues the jobs that do it (``ScheduleMDMWork``); the shared job
/// queue makes sure one replica runs each. Every 10 minutes the pass also sweeps for devices to reclaim.
struct MDMWorkPump: Service {
    let schedule: ScheduleMDMWork
    let clock: any Clock
    let logger: Logger
    var interval: Duration = .seconds(1)

    init(useCases: UseCases, logger: Logger) {
        schedule = useCases.scheduleMDMWork
        clock = useCases.ports.clock
        self.logger = logger
    }

    func run() async throws {
        var sweeping = Cadence(every: 600)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = clock.now()
            do {
                try await schedule(now: now, sweep: sweeping.fire(at: now))
            } catch {
                logger.warning("MDM work check failed", metadata: ["error": "\(error)"])
            }
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { break }
        }
    }
}
