import Foundation
import VPPDomain

extension Catalogue {
    /// The largest page a listing returns.
    public static let maxPageSize = 1000

    /// Checks a page request shared by every listing: the limit is within bounds and `after` is a cursor
    /// this listing gave (`decode` reads it); the position to start after, or nil for the first page.
    static func pageStart<Position>(
        limit: Int,
        after: String?,
        decode: (String) -> Position?
    ) throws(UseCaseError) -> Position? {
        guard (1...maxPageSize).contains(limit) else {
            throw UseCaseError.badPageRequest("limit must be 1 to \(maxPageSize)")
        }
        guard let after else { return nil }
        guard let position = decode(after) else {
            throw UseCaseError.badPageRequest("after is not a cursor this listing gave")
        }
        return position
    }

    /// A page of licences in a stable order (keyset paging: a deep page costs what the first does).
    /// - Parameter after: the `next` cursor of the previous page.
    public func licencePage(
        _ caller: Caller,
        filter: LicenceFilter,
        after: String?,
        limit: Int
    ) async throws
        -> ListingPage<LicenceView>
    {
        try caller.require(.read)
        let start = try Self.pageStart(limit: limit, after: after, decode: LicenceCursor.decode)
        var query = AssignmentQuery(
            asset: filter.asset,
            tokenID: filter.tokenID,
            assignee: filter.assignee,
            states: filter.states
        )
        query.after = start
        query.limit = limit + 1
        let pageQuery = query
        let rows = try await store.inTenant(caller.tenantID) { tx in try await tx.assignments(pageQuery) }
        let page = Array(rows.prefix(limit))
        return ListingPage(
            items: page.map(LicenceView.init),
            next: rows.count > limit ? page.last.map { LicenceCursor.encode($0.id) } : nil
        )
    }
}
