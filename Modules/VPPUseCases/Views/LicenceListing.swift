import Foundation
import VPPDomain

/// Which licences to list, and where a page starts.
public struct LicenceFilter: Hashable, Sendable {
    public var asset: AssetKey?
    public var tokenID: TokenID?
    public var assignee: Assignee?
    public var states: Set<AssignmentState.Code>?

    public init(
        asset: AssetKey? = nil, tokenID: TokenID? = nil, assignee: Assignee? = nil,
        states: Set<AssignmentState.Code>? = nil
    ) {
        self.asset = asset
        self.tokenID = tokenID
        self.assignee = assignee
        self.states = states
    }
}

/// One page of a listing and the opaque cursor of the next (nil on the last page).
public struct ListingPage<Item: Sendable & Encodable>: Sendable, Encodable {
    public let items: [Item]
    public let next: String?
}

/// The opaque keyset cursor of a licence listing (the last licence's id, versioned so its shape may change).
public enum LicenceCursor {
    static let prefix = "l1."

    public static func encode(_ id: AssignmentID) -> String {
        prefix + Data(id.rawValue.uuidString.lowercased().utf8).base64EncodedString()
    }

    /// Reads a cursor; anything that is not one of ours is `nil`.
    public static func decode(_ cursor: String) -> AssignmentID? {
        guard cursor.hasPrefix(prefix), cursor.count < 80,
            let data = Data(base64Encoded: String(cursor.dropFirst(prefix.count))),
            let uuid = UUID(uuidString: String(decoding: data, as: UTF8.self))
        else { return nil }
        return AssignmentID(uuid)
    }
}

extension Catalogue {
    /// The largest page a listing returns.
    public static let maxPageSize = 1000

    /// A page of licences in a stable order (keyset paging: a deep page costs what the first does).
    /// - Parameter after: the `next` cursor of the previous page.
    public func licencePage(
        _ caller: Caller, filter: LicenceFilter, after: String?, limit: Int
    ) async throws
        -> ListingPage<LicenceView>
    {
        try caller.require(.read)
        guard (1...Self.maxPageSize).contains(limit) else {
            throw UseCaseError.badPageRequest("limit must be 1 to \(Self.maxPageSize)")
        }
        let start = try after.map { cursor in
            guard let id = LicenceCursor.decode(cursor) else {
                throw UseCaseError.badPageRequest("after is not a cursor this listing gave")
            }
            return id
        }
        var query = AssignmentQuery(
            asset: filter.asset, tokenID: filter.tokenID, assignee: filter.assignee, states: filter.states)
        query.after = start
        query.limit = limit + 1
        let pageQuery = query
        let rows = try await store.inTenant(caller.tenantID) { tx in try await tx.assignments(pageQuery) }
        let page = Array(rows.prefix(limit))
        return ListingPage(
            items: page.map(LicenceView.init),
            next: rows.count > limit ? page.last.map { LicenceCursor.encode($0.id) } : nil)
    }
}
