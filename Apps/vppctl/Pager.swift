import ArgumentParser
import Foundation
import VPPUseCases

/// `--limit`, `--after` and `--all` of the paged listings (`license list`, `device list`, `audit`).
struct PageOptions: ParsableArguments {
    @Option(help: "One page of at most this many (1…1000); the next page's --after is printed on stderr.")
    var limit: Int?
    @Option(help: "Start after this cursor (printed after a page; the API's Link header carries the same).")
    var after: String?
    @Flag(help: "Every page, printed as it arrives (the default without --limit).") var all = false

    func validate() throws {
        if let limit, !(1...Catalogue.maxPageSize).contains(limit) {
            throw ValidationError("--limit must be 1 to \(Catalogue.maxPageSize) (got \(limit)).")
        }
        if all, limit != nil { throw ValidationError("--all lists every page; leave out --limit.") }
    }
}

/// Prints a keyset listing page by page as it arrives, as a table or as the API's JSON: with `--json` the
/// output is one JSON array of the same representations `GET /v1/…` answers (streamed, never held whole).
struct Pager<Item: Encodable & Sendable> {
    let options: PageOptions
    let json: Bool
    let headers: [String]
    let row: (Item) -> [String]

    func run(_ fetch: (_ after: String?, _ limit: Int) async throws -> ListingPage<Item>) async throws {
        var after = options.after
        var first = true
        var printed = 0
        if json { print("[", terminator: "") }
        repeat {
            let page = try await fetch(after, options.limit ?? Catalogue.maxPageSize)
            if json {
                for item in page.items {
                    print(first ? "\n  " : ",\n  ", terminator: "")
                    print(try Output.compactJSON(item), terminator: "")
                    first = false
                }
            } else if !page.items.isEmpty || first {
                Output.table(headers, page.items.map(row), header: first)
                first = false
            }
            printed += page.items.count
            after = page.next
            fflush(nil)  // each page reaches a pipe as it arrives
        } while after != nil && options.limit == nil
        if json { print(printed == 0 ? "]" : "\n]") }
        if let after, options.limit != nil {
            FileHandle.standardError.write(Data("More: --after \(after)\n".utf8))
        }
    }
}
