import Foundation

/// How the Apple client behaves: where it calls, how long it waits, how it retries.
public struct AppleClientConfiguration: Sendable {
    /// Apple's v2 base, e.g. `https://vpp.itunes.apple.com/mdm/v2` (or a simulator's).
    public var baseURL: String
    /// Deadline of one HTTP exchange.
    public var requestTimeout: Duration = .seconds(30)
    /// Bodies larger than this are refused (a page of 1,000 assignments is ~100 KB).
    public var maxResponseBytes = 8 * 1024 * 1024
    /// Attempts per call, first one included.
    public var maxAttempts = 5
    /// Total time one call may spend retrying; a `Retry-After` beyond it ends the call.
    public var maxRetryDuration: Duration = .seconds(120)
    /// First back-off; doubles each attempt, with jitter, up to `maxBackoff`.
    public var initialBackoff: Duration = .milliseconds(500)
    public var maxBackoff: Duration = .seconds(30)
    /// Pages fetched in parallel (Apple allows at most 5).
    public var pageConcurrency = 5
    /// How often a walk may restart because `versionId` changed under it.
    public var maxWalkRestarts = 5
    /// How long `service/config` is cached (Apple: re-read every 5 minutes).
    public var serviceConfigTTL: Duration = .seconds(300)

    /// Told the endpoint and outcome ("ok" or the error's case) of every attempt, for metrics.
    public var observer: (@Sendable (_ endpoint: String, _ outcome: String) -> Void)?

    public init(baseURL: String = "https://vpp.itunes.apple.com/mdm/v2") {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    }
}
