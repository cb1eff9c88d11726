import Foundation
import Synchronization
import VPPUseCases

/// Walks a paged endpoint the way Apple asks: start at page 0, fetch the rest with at most
/// `concurrency` pages in flight, follow `nextPageIndex` (never `currentPageIndex == totalPages`), and start
/// again when `versionId` changes between pages.
struct ApplePager: Sendable {
    let concurrency: Int
    let maxRestarts: Int

    struct Page<Item: Sendable>: Sendable {
        let items: [Item]
        let nextPageIndex: Int?
        let totalPages: Int
        let versionId: String
        let context: AppleResponseContext
    }

    func walk<Item: Sendable>(
        _ fetch: @escaping @Sendable (Int) async throws -> Page<Item>
    ) async throws -> AppleWalk<Item> {
        let collected = Collected<Item>()
        var walk = try await stream(
            fetch,
            restart: { collected.pages.withLock { $0 = [:] } },
            page: { index, items in collected.pages.withLock { $0[index] = items } }
        )
        walk.items = collected.pages.withLock { pages in pages.keys.sorted().flatMap { pages[$0] ?? [] } }
        return walk
    }

    /// Pages of a walk kept in order (the in-memory walk, for small lists).
    final class Collected<Item: Sendable>: Sendable {
        let pages = Mutex<[Int: [Item]]>([:])
    }

    /// Walks page by page, handing each page to `page` as it arrives (in any order) and keeping only each
    /// page's links, so memory stays flat however long the list. When `versionId` changes mid-walk the walk
    /// starts again after `restart`.
    /// - Returns: the walk's version, context and counts, without items.
    func stream<Item: Sendable>(
        _ fetch: @escaping @Sendable (Int) async throws -> Page<Item>,
        restart: @Sendable () async throws -> Void,
        page deliver: @Sendable (Int, [Item]) async throws -> Void
    ) async throws -> AppleWalk<Item> {
        var restarts = 0
        var pagesFetched = 0
        while true {
            let first = try await fetch(0)
            pagesFetched += 1
            try await deliver(0, first.items)
            var links: [Int: Int?] = [0: first.nextPageIndex]
            var versionChanged = false
            if first.nextPageIndex != nil {
                // Fetch the pages the first one announces, in parallel, then follow nextPageIndex beyond them
                // if the data grew meanwhile.
                var planned = Array(1..<max(first.totalPages, 2))
                while !planned.isEmpty && !versionChanged {
                    do {
                        try await fetchEach(planned, fetch) { index, page in
                            pagesFetched += 1
                            links[index] = page.nextPageIndex
                            if page.versionId != first.versionId { versionChanged = true }
                            if !versionChanged { try await deliver(index, page.items) }
                        }
                    } catch AppleAPIError.badPageIndex {
                        // The data shrank under us: a page we were told about no longer exists.
                        versionChanged = true
                        break
                    }
                    planned = []
                    if !versionChanged, let last = Self.followLinks(links).last, let next = links[last] ?? nil,
                        links[next] == nil
                    {
                        guard next > last else {
                            throw AppleAPIError.malformedResponse(
                                status: 200,
                                excerpt: "nextPageIndex \(next) after page \(last)"
                            )
                        }
                        planned = [next]
                    }
                }
            }
            if !versionChanged {
                return AppleWalk(
                    items: [],
                    versionID: first.versionId,
                    context: first.context,
                    pagesFetched: pagesFetched,
                    restarts: restarts
                )
            }
            restarts += 1
            if restarts > maxRestarts { throw AppleAPIError.pagingUnstable(restarts: restarts) }
            try await restart()
        }
    }

    /// Page indexes reachable from page 0 through `nextPageIndex`, in order.
    static func followLinks(_ links: [Int: Int?]) -> [Int] {
        var chain: [Int] = []
        var index: Int? = 0
        while let current = index, let link = links[current], !chain.contains(current) {
            chain.append(current)
            index = link
        }
        return chain
    }

    /// Page indexes reachable from page 0 through `nextPageIndex`, in order.
    static func followChain<Item>(_ pages: [Int: Page<Item>]) -> [Int] {
        var chain: [Int] = []
        var index: Int? = 0
        while let current = index, let page = pages[current], !chain.contains(current) {
            chain.append(current)
            index = page.nextPageIndex
        }
        return chain
    }

    /// Fetches `indexes` with at most `concurrency` in flight, handing each page to `body` in this task as it lands.
    private func fetchEach<Item: Sendable>(
        _ indexes: [Int],
        _ fetch: @escaping @Sendable (Int) async throws -> Page<Item>,
        _ body: (Int, Page<Item>) async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: (Int, Page<Item>).self) { group in
            var pending = indexes.makeIterator()
            for _ in 0..<max(1, concurrency) {
                guard let index = pending.next() else { break }
                group.addTask { (index, try await fetch(index)) }
            }
            while let (index, page) = try await group.next() {
                try await body(index, page)
                if let next = pending.next() { group.addTask { (next, try await fetch(next)) } }
            }
        }
    }
}
