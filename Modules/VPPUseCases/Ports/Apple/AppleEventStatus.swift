import Foundation
import VPPDomain

/// `GET status`: where an event is.
public struct AppleEventStatus: Hashable, Sendable {
    public enum State: String, Hashable, Sendable {
        case pending = "PENDING"
        case complete = "COMPLETE"
        case failed = "FAILED"
    }

    public struct Failure: Hashable, Sendable {
        public var error: AppleAPIError
        public var errorNumber: Int
        public var serialNumbers: [String]
        public var clientUserIDs: [String]
        public var assets: [AssetKey]

        public init(
            error: AppleAPIError,
            errorNumber: Int,
            serialNumbers: [String],
            clientUserIDs: [String],
            assets: [AssetKey]
        ) {
            self.error = error
            self.errorNumber = errorNumber
            self.serialNumbers = serialNumbers
            self.clientUserIDs = clientUserIDs
            self.assets = assets
        }
    }

    public var state: State
    public var type: String
    public var numCompleted: Int
    public var numRequested: Int
    public var failures: [Failure]
    public var context: AppleResponseContext

    public init(
        state: State,
        type: String,
        numCompleted: Int,
        numRequested: Int,
        failures: [Failure],
        context: AppleResponseContext
    ) {
        self.state = state
        self.type = type
        self.numCompleted = numCompleted
        self.numRequested = numRequested
        self.failures = failures
        self.context = context
    }
}
