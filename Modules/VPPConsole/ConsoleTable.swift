import Foundation
import VPPUseCases

/// Sorting and paging of one table by query parameters (`sort`, `dir`, `page`), so both work without
/// JavaScript: every header is a link that sorts by its column, and the pager links to pages.
struct ConsoleTable<Row> {
    /// A sortable column: its label, its key in URLs, and how two rows compare.
    struct Column {
        let key: String
        let label: String
        let ascending: (Row, Row) -> Bool
    }

    /// What a header cell shows.
    struct Header: Sendable {
        let label: String
        /// The link that sorts by this column; nil where the table is in its listing's fixed order.
        let href: String?
        /// "ascending", "descending" or "none" (the `aria-sort` value).
        let ariaSort: String
        let arrow: String
    }

    /// What the pager shows.
    struct Pager: Sendable {
        let summary: String
        let previous: String?
        let next: String?
        let many: Bool
    }

    let headers: [Header]
    let rows: [Row]
    let pager: Pager

    /// Sorts `all` by the requested column (or `defaultKey`) and cuts out the requested page.
    /// `base` is the page's path with its other query parameters (e.g. a search), kept in every link.
    init(_ all: [Row], columns: [Column], defaultKey: String, query: [String: String], base: String, perPage: Int = 50)
    {
        let key = columns.contains { $0.key == query["sort"] } ? query["sort"]! : defaultKey
        let descending = query["dir"] == "desc"
        var sorted = all
        if let column = columns.first(where: { $0.key == key }) {
            sorted.sort { descending ? column.ascending($1, $0) : column.ascending($0, $1) }
        }
        let pages = max(1, (sorted.count + perPage - 1) / perPage)
        let page = min(max(1, Int(query["page"] ?? "") ?? 1), pages)
        let separator = base.contains("?") ? "&" : "?"
        func link(sort: String, desc: Bool, page: Int) -> String {
            "\(base)\(separator)sort=\(sort)&dir=\(desc ? "desc" : "asc")" + (page > 1 ? "&page=\(page)" : "")
        }
        headers = columns.map { column in
            let current = column.key == key
            return Header(
                label: column.label,
                href: link(sort: column.key, desc: current && !descending, page: 1),
                ariaSort: current ? (descending ? "descending" : "ascending") : "none",
                arrow: current ? (descending ? "▼" : "▲") : ""
            )
        }
        let start = (page - 1) * perPage
        rows = Array(sorted.dropFirst(start).prefix(perPage))
        let shown = sorted.isEmpty ? "No rows" : "Rows \(start + 1)–\(start + rows.count) of \(sorted.count)"
        pager = Pager(
            summary: "\(shown) (page \(page) of \(pages))",
            previous: page > 1 ? link(sort: key, desc: descending, page: page - 1) : nil,
            next: page < pages ? link(sort: key, desc: descending, page: page + 1) : nil,
            many: pages > 1
        )
    }
}

/// Text comparisons for sorting: case-insensitive, numbers in names in numeric order.
func textOrder(_ a: String, _ b: String) -> Bool {
    a.localizedStandardCompare(b) == .orderedAscending
}

/// Where a keyset-paged table is, as the URL says: its search (`q`), the cursor its page starts after
/// (`after`, the listing's own `next` cursor) and the cursors the earlier pages started after (`back`,
/// oldest first, the first page as an empty entry). "Previous page" returns to the last of those, so no
/// reversed read is needed and the pages are the API's pages.
struct ConsolePageQuery {
    static let perPage = 50
    let search: String
    let after: String?
    let trail: [String]

    /// The `sort` parameter as given (`name`, `-name`), read by ``sort(_:)``.
    let sortParameter: String?

    init(_ query: [String: String]) {
        sortParameter = query["sort"]
        search = (query["q"] ?? "").trimmingCharacters(in: .whitespaces)
        after = query["after"].flatMap { $0.isEmpty ? nil : $0 }
        // Past the first page there is always a page to go back to (the first, when `back` is missing).
        trail =
            after == nil
            ? [] : (query["back"] ?? "").split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }

    /// This page's number (1 for the first).
    var pageNumber: Int { trail.count + 1 }

    /// The order asked for; the listing's standard order when none is, or one it does not have.
    func sort<Column: SortColumn>(_ column: Column.Type) -> ListingSort<Column> {
        sortParameter.flatMap(ListingSort<Column>.init(parameter:)) ?? ListingSort()
    }
}

extension ConsoleTable {
    /// Plain headers (a keyset page is in its listing's order; `sortedBy` marks the column it is ordered by)
    /// and a previous/next pager whose links carry cursors. `base` is the page's path with its other query
    /// parameters (e.g. a search), kept in every link.
    init(
        page rows: [Row],
        next: String?,
        query: ConsolePageQuery,
        labels: [String],
        sortedBy: String? = nil,
        base: String
    ) {
        let separator = base.contains("?") ? "&" : "?"
        func link(after: String, back: [String]) -> String {
            "\(base)\(separator)after=\(urlEncode(after))&back=\(urlEncode(back.joined(separator: ",")))"
        }
        headers = labels.map { label in
            Header(
                label: label,
                href: nil,
                ariaSort: label == sortedBy ? "ascending" : "none",
                arrow: label == sortedBy ? "▲" : ""
            )
        }
        self.rows = rows
        let start = query.trail.count * ConsolePageQuery.perPage
        let shown = rows.isEmpty ? "No rows" : "Rows \(start + 1)–\(start + rows.count)"
        let previous = query.trail.last.map { back in
            back.isEmpty ? base : link(after: back, back: Array(query.trail.dropLast()))
        }
        pager = Pager(
            summary: "\(shown) (page \(query.pageNumber))",
            previous: previous,
            next: next.map { link(after: $0, back: query.trail + [query.after ?? ""]) },
            many: previous != nil || next != nil
        )
    }
}

extension ConsoleTable {
    /// A keyset page in `sort`'s order, with a total: each header with a column is a link that sorts by it
    /// (again: the other direction) from the first page, and the pager's links carry the order and the cursors.
    /// `base` is the page's path with its other query parameters (e.g. a search), without `sort`.
    init<Column: SortColumn>(
        page rows: [Row],
        next: String?,
        query: ConsolePageQuery,
        columns: [(label: String, sortsBy: Column?)],
        sort: ListingSort<Column>,
        total: Int,
        base: String
    ) {
        let separator = base.contains("?") ? "&" : "?"
        headers = columns.map { entry in
            let label = entry.label
            guard let column = entry.sortsBy else {
                return Header(label: label, href: nil, ariaSort: "none", arrow: "")
            }
            let current = column == sort.column
            let again = ListingSort(column, descending: current && !sort.descending)
            return Header(
                label: label,
                href: "\(base)\(separator)sort=\(again.parameter)",
                ariaSort: current ? (sort.descending ? "descending" : "ascending") : "none",
                arrow: current ? (sort.descending ? "▼" : "▲") : ""
            )
        }
        let sorted = sort == ListingSort() ? base : "\(base)\(separator)sort=\(sort.parameter)"
        let table = ConsoleTable(page: rows, next: next, query: query, labels: [], base: sorted)
        self.rows = rows
        let start = query.trail.count * ConsolePageQuery.perPage
        let shown = rows.isEmpty ? "No rows" : "Rows \(start + 1)–\(start + rows.count) of \(total)"
        pager = Pager(
            summary: "\(shown) (page \(query.pageNumber))",
            previous: table.pager.previous,
            next: table.pager.next,
            many: table.pager.many
        )
    }
}
