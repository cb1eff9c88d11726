import Foundation
import VPPDomain

/// Carries out queued Apple intents soon, in the background of a long-running server (vppd's intent
/// pump). With one, a request answers as soon as its reservation (and so its intent) is durable; without
/// one (the CLI, tests) the request carries its intents out itself and waits for Apple's answer.
public protocol IntentScheduler: Sendable {
    /// Says that `group` has queued intents; returns at once.
    func intentsQueued(_ group: IntentGroup)
}
