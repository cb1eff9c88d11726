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
        let href: String
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

/// A list's sort and page as the URL asks for them, for lists the database sorts and pages.
struct ConsoleListQuery<Column: RawRepresentable & CaseIterable & Sendable> where Column.RawValue == String {
    let column: Column
    let descending: Bool
    let page: Int
    let search: String
    static var perPage: Int { 50 }

    init(_ query: [String: String], default column: Column) {
        self.column = query["sort"].flatMap(Column.init(rawValue:)) ?? column
        descending = query["dir"] == "desc"
        page = max(1, Int(query["page"] ?? "") ?? 1)
        search = (query["q"] ?? "").trimmingCharacters(in: .whitespaces)
    }

    func window(page: Int? = nil) -> ListWindow<Column> {
        ListWindow(
            column: column,
            descending: descending,
            limit: Self.perPage,
            offset: ((page ?? self.page) - 1) * Self.perPage,
            search: search
        )
    }

    /// Reads the requested page; past the end, the last page.
    func fetch<Row>(
        _ read: (ListWindow<Column>) async throws -> ListPage<Row>
    ) async throws -> (ListPage<Row>, page: Int) {
        let first = try await read(window())
        let last = max(1, (first.total + Self.perPage - 1) / Self.perPage)
        guard first.rows.isEmpty, page > last else { return (first, page) }
        return (try await read(window(page: last)), last)
    }
}

extension ConsoleTable {
    /// Headers and pager for a page the database already sorted and cut.
    init<Column: RawRepresentable & CaseIterable & Sendable>(
        page rows: [Row],
        total: Int,
        pageNumber: Int,
        query: ConsoleListQuery<Column>,
        labels: [(Column, String)],
        base: String
    ) where Column.RawValue == String {
        let perPage = ConsoleListQuery<Column>.perPage
        let pages = max(1, (total + perPage - 1) / perPage)
        let separator = base.contains("?") ? "&" : "?"
        func link(sort: String, desc: Bool, page: Int) -> String {
            "\(base)\(separator)sort=\(sort)&dir=\(desc ? "desc" : "asc")" + (page > 1 ? "&page=\(page)" : "")
        }
        headers = labels.map { column, label in
            let current = column == query.column
            return Header(
                label: label,
                href: link(sort: column.rawValue, desc: current && !query.descending, page: 1),
                ariaSort: current ? (query.descending ? "descending" : "ascending") : "none",
                arrow: current ? (query.descending ? "▼" : "▲") : ""
            )
        }
        self.rows = rows
        let start = (pageNumber - 1) * perPage
        let shown = total == 0 ? "No rows" : "Rows \(start + 1)–\(start + rows.count) of \(total)"
        pager = Pager(
            summary: "\(shown) (page \(pageNumber) of \(pages))",
            previous: pageNumber > 1
                ? link(sort: query.column.rawValue, desc: query.descending, page: pageNumber - 1) : nil,
            next: pageNumber < pages
                ? link(sort: query.column.rawValue, desc: query.descending, page: pageNumber + 1) : nil,
            many: pages > 1
        )
    }
}
