import Foundation
import VPPDomain

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
