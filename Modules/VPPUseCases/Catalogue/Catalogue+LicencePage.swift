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

    /// A page of licences in `sort`'s order (keyset paging on the column's value, then the licence id; the
    /// standard order is the id alone, as /v1 has always paged).
    /// - Parameter after: the `next` cursor of the previous page, in the same order (else a bad page request).
    public func licencePage(
        _ caller: Caller,
        filter: LicenceFilter,
        sort: ListingSort<LicenceSortColumn> = ListingSort(),
        after: String?,
        limit: Int
    ) async throws
        -> ListingPage<LicenceView>
    {
        try caller.require(.read)
        let standard = sort == ListingSort()
        let start = try Self.pageStart(limit: limit, after: after) { cursor in
            standard
                ? LicenceCursor.decode(cursor).map { ListingPosition(.text(""), key: $0) }
                : SortedCursor.decode(cursor, prefix: LicenceCursor.sortedPrefix, sort) { AssignmentID(uuidString: $0) }
        }
        var query = Self.query(filter)
        query.sort = standard ? nil : sort
        query.position = standard ? nil : start
        query.after = standard ? start?.key : nil
        query.limit = limit + 1
        let pageQuery = query
        let rows = try await store.inTenant(caller.tenantID) { tx in try await tx.assignments(pageQuery) }
        let page = Array(rows.prefix(limit))
        let next = rows.count > limit ? page.last : nil
        return ListingPage(
            items: page.map(LicenceView.init),
            next: next.map { licence in
                standard
                    ? LicenceCursor.encode(licence.id)
                    : SortedCursor.encode(
                        prefix: LicenceCursor.sortedPrefix,
                        sort,
                        Self.position(of: licence, sort.column),
                        key: licence.id.rawValue.uuidString.lowercased()
                    )
            }
        )
    }

    /// How many licences `filter` selects (the console's "Rows 1–50 of N"): one count, not a listing.
    public func licenceCount(_ caller: Caller, filter: LicenceFilter) async throws -> Int {
        try caller.require(.read)
        let query = Self.query(filter)
        return try await store.inTenant(caller.tenantID) { tx in try await tx.assignmentCount(query) }
    }

    static func query(_ filter: LicenceFilter) -> AssignmentQuery {
        AssignmentQuery(asset: filter.asset, tokenID: filter.tokenID, assignee: filter.assignee, states: filter.states)
    }

    /// A licence's place in an order: the value the store sorts it by, then its id.
    static func position(of licence: Assignment, _ column: LicenceSortColumn) -> ListingPosition<AssignmentID> {
        let value: ListingPosition<AssignmentID>.Value =
            switch column {
            case .id: .text("")
            case .assignee:
                switch licence.assignee {
                case .device(let serial): .text(serial.value)
                case .user(let user): .text(user.value)
                }
            case .app: .text(licence.asset.adamID)
            case .state: .text(licence.state.code)
            // Milliseconds, as the store keeps times (rounded: the stored value read back exactly).
            case .since: .number(Int64(((licence.changedAt?.timeIntervalSince1970 ?? 0) * 1000).rounded()))
            }
        return ListingPosition(value, key: licence.id)
    }
}
