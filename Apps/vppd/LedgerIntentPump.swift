import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import VPPUseCases

/// Sends the ledger's queued Apple intents as soon as requests queue them: requests hand their groups over
/// and answer; the pump drains each group (one worker per token and app across all servers, through the
/// group's lease), so requests arriving together reach Apple together. Anything the pump misses, or a
/// server that dies leaves behind, the background workers' pass finds by due time.
final class LedgerIntentPump: IntentScheduler, Service {
    private let intents: CarryOutAppleIntents
    private let logger: Logger
    private let stream: AsyncStream<IntentGroup>
    private let continuation: AsyncStream<IntentGroup>.Continuation
    /// Groups being drained in this process, and those nudged again meanwhile (one more pass each), under
    /// one lock so a nudge is never lost between a drain's last pass and its end.
    private struct Passes { var running = Set<IntentGroup>(), again = Set<IntentGroup>() }
    private let passes = Mutex(Passes())

    init(intents: CarryOutAppleIntents, logger: Logger) {
        self.intents = intents
        self.logger = logger
        (stream, continuation) = AsyncStream.makeStream(of: IntentGroup.self, bufferingPolicy: .bufferingNewest(10_000))
    }

    func intentsQueued(_ group: IntentGroup) { continuation.yield(group) }

    private func drainRepeatedly(_ group: IntentGroup) async {
        var pass = true
        while pass {
            do {
                _ = try await intents.drain(group)
            } catch {
                logger.warning("sending queued Apple intents failed", metadata: ["error": "\(error)"])
            }
            pass = passes.withLock { state in
                if state.again.remove(group) != nil { return true }
                state.running.remove(group)
                return false
            }
        }
    }

    func run() async throws {
        await withDiscardingTaskGroup { tasks in
            for await group in stream.cancelOnGracefulShutdown() {
                // One drain per group at a time in this process; a nudge during a drain asks for one more pass.
                let started = passes.withLock { state in
                    if state.running.insert(group).inserted { return true }
                    state.again.insert(group)
                    return false
                }
                guard started else { continue }
                tasks.addTask { await self.drainRepeatedly(group) }
            }
        }
    }
}
