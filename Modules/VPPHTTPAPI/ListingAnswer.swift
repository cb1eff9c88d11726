import Foundation
import HTTPTypes
import Hummingbird
import VPPUseCases

/// How the paged listings answer: the body stays the JSON array /v1 has always answered, and the next page
/// is linked in a `Link: <…>; rel="next"` header (RFC 8288) whose URL is the request's own with `after` set
/// to the next cursor; the last page has no `Link`. A bad `limit` or `after` is a 400 naming it.
enum ListingAnswer {
    static let linkHeader = HTTPField.Name("Link")!

    /// The documented 200 answer of a listing of `T`.
    static func page<T: APISchema>(_ description: String, of type: T.Type) -> APIOperation.Answer {
        var answer = APIOperation.Answer.json(200, description, .array(.ref(T.self)))
        answer.headers = ["Link": "<url>; rel=\"next\" while more pages follow (the URL carries the next cursor)"]
        return answer
    }

    /// The `limit` and `after` parameters every listing takes.
    static var pageParameters: [APIOperation.Parameter] {
        [
            .query("limit", .integer(minimum: 1, maximum: Catalogue.maxPageSize, default: Catalogue.maxPageSize)),
            .query("after", .string, "The cursor in the previous page's Link header"),
        ]
    }

    static func limit(_ query: QueryParameters) throws -> Int {
        let allowed = ["1…\(Catalogue.maxPageSize)"]
        guard let text = try query.single("limit", allowed: allowed) else { return Catalogue.maxPageSize }
        guard let limit = Int(text), (1...Catalogue.maxPageSize).contains(limit) else {
            throw BadQueryParameter(name: "limit", value: text, allowed: allowed)
        }
        return limit
    }

    /// The `sort` parameter of a listing ordered by `Column`: a column, `-` first for descending.
    static func sortParameter<Column: SortColumn>(_ column: Column.Type) -> APIOperation.Parameter {
        .query(
            "sort",
            .oneOf(ListingSort<Column>.parameters),
            "The order (default \(Column.standard.rawValue)); '-' first for descending. A cursor belongs to its order."
        )
    }

    static func sort<Column: SortColumn>(_ query: QueryParameters) throws -> ListingSort<Column> {
        let allowed = ListingSort<Column>.parameters
        guard let text = try query.single("sort", allowed: allowed) else { return ListingSort() }
        guard let sort = ListingSort<Column>(parameter: text) else {
            throw BadQueryParameter(name: "sort", value: text, allowed: allowed)
        }
        return sort
    }

    static func after(_ query: QueryParameters) throws -> String? {
        try query.single("after", allowed: ["a cursor from a Link header"])
    }

    /// The page's items as the body, the next page in `Link`.
    static func response<T>(_ page: ListingPage<T>, _ call: APIOperation.Call) -> Response {
        var response = json(page.items)
        if let next = page.next {
            response.headers[linkHeader] = "<\(nextURL(call.request, cursor: next))>; rel=\"next\""
        }
        return response
    }

    /// The request's own URL with `after` set to `cursor` (the `Link: rel="next"` target).
    static func nextURL(_ request: Request, cursor: String) -> String {
        var components = URLComponents()
        components.path = request.uri.path
        var items = request.uri.queryParameters.filter { "\($0.key)" != "after" }.map {
            URLQueryItem(name: "\($0.key)", value: "\($0.value)")
        }
        items.append(URLQueryItem(name: "after", value: cursor))
        components.queryItems = items
        return components.string ?? request.uri.path
    }
}
