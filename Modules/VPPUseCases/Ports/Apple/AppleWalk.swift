import Foundation
import VPPDomain

/// The result of a complete paged walk: every item, from one consistent `versionId`.
public struct AppleWalk<Item: Sendable>: Sendable {
    public var items: [Item]
    /// The first page's `versionId`: pass it as `sinceVersionId` next time.
    public var versionID: String
    public var context: AppleResponseContext
    public var pagesFetched: Int
    /// How many times the walk started again because `versionId` changed mid-walk.
    public var restarts: Int

    public init(items: [Item], versionID: String, context: AppleResponseContext, pagesFetched: Int, restarts: Int) {
        self.items = items
        self.versionID = versionID
        self.context = context
        self.pagesFetched = pagesFetched
        self.restarts = restarts
    }
}
