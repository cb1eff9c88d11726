import Foundation

/// Run-time switches of the simulator, changeable through the admin API.
public struct SimulatorSettings: Codable, Sendable {
    /// Requests per second per location; `nil` turns the limiter off. Apple: 15.
    public var requestsPerSecond: Double? = 15
    /// Add `Retry-After` (seconds) to 429 answers.
    public var rateLimitRetryAfter: Int? = nil
    /// Items per page for assets, assignments and users. Apple: "several hundred".
    public var pageSize: Int = 500
    /// HTTP status used for 9622 (invalid token); Fleet observed 200, the docs say 401.
    public var invalidTokenStatus: Int = 200
    /// How long an associate/disassociate/revoke/users event stays PENDING.
    public var eventDelayMilliseconds: Int = 20
    /// Limits served by `service/config` and enforced (97xx).
    public var limits: [String: Int] = [
        "maxAssets": 25, "maxClientUserIds": 1000, "maxSerialNumbers": 1000,
        "maxRevokeClientUserIds": 100, "maxRevokeSerialNumbers": 100, "maxUsers": 100,
        "maxSubscriptions": 25, "maxSubscriptionClientUserIds": 1000, "maxNotificationLength": 512,
        "maxMdmNameLength": 100, "maxMdmMetadataLength": 255, "maxMdmIdLength": 100, "maxRequestPerSecond": 15,
    ]
    /// Require `https://` notification URLs (Apple does); tests on loopback turn this off.
    public var requireHTTPSNotificationURL: Bool = false

    public init() {}
}

/// A fault to inject into the next matching Apple API requests.
public struct SimulatorFault: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// HTTP 500 with `Retry-After` and error 9603.
        case serverError
        /// HTTP 503 with error 9729.
        case serviceUnavailable
        /// HTTP 200 whose body is error 9622.
        case invalidTokenOn200
        /// The real answer, after `delayMilliseconds`.
        case slow
        /// HTTP 200 with JSON cut in half.
        case truncatedJSON
        /// The connection closes part-way through the body.
        case connectionReset
        /// HTTP 429 with error 9646.
        case rateLimited
        /// The real answer to an assignment listing as if it had no filter (`adamId`, `serialNumber`, ...):
        /// a client must read what it is given, not trust that it matches what it asked for.
        case ignoresFilters
    }

    public var kind: Kind
    /// How many requests it applies to.
    public var count: Int
    /// Only requests whose target contains this text: the path, `?`, and the query sorted by name
    /// (e.g. `"assets?"` or `"pageIndex=2"`); `nil` = any Apple API request.
    public var pathContains: String?
    public var retryAfterSeconds: Int?
    public var delayMilliseconds: Int?

    public init(
        kind: Kind,
        count: Int = 1,
        pathContains: String? = nil,
        retryAfterSeconds: Int? = nil,
        delayMilliseconds: Int? = nil
    ) {
        self.kind = kind
        self.count = count
        self.pathContains = pathContains
        self.retryAfterSeconds = retryAfterSeconds
        self.delayMilliseconds = delayMilliseconds
    }
}
