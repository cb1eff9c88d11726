import Foundation
import VPPDomain

/// One asynchronous Apple write, and exactly which items it covered (so failures map back).
public struct AppleEventTicket: Hashable, Sendable {
    public var eventID: String
    public var assets: [AssetKey]
    public var serialNumbers: [String]
    public var clientUserIDs: [String]

    public init(eventID: String, assets: [AssetKey] = [], serialNumbers: [String] = [], clientUserIDs: [String] = []) {
        self.eventID = eventID
        self.assets = assets
        self.serialNumbers = serialNumbers
        self.clientUserIDs = clientUserIDs
    }
}
