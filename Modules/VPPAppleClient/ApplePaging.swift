import Foundation
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

    func walk<Item: Sendable>(_ fetch: @escaping @Sendable (Int) async throws -> Page<Item>) async throws -> AppleWalk<Item> {
        var restarts = 0
        var pagesFetched = 0
        while true {
            let first = try await fetch(0)
            pagesFetched += 1
            var pages: [Int: Page<Item>] = [0: first]
            var versionChanged = false
            if first.nextPageIndex != nil {
                // Fetch the pages the first one announces, in parallel, then follow nextPageIndex beyond them
                // if the data grew meanwhile.
                var planned = Array(1..<max(first.totalPages, 2))
                while !planned.isEmpty && !versionChanged {
                    let batch: [(Int, Page<Item>)]
                    do {
                        batch = try await fetchAll(planned, fetch)
                    } catch AppleAPIError.badPageIndex {
                        // The data shrank under us: a page we were told about no longer exists.
                        versionChanged = true
                        break
                    }
                    pagesFetched += batch.count
                    for (index, page) in batch {
                        if page.versionId != first.versionId { versionChanged = true }
                        pages[index] = page
                    }
                    planned = []
                    if !versionChanged, let last = Self.followChain(pages).last, let next = pages[last]?.nextPageIndex, pages[next] == nil {
                        guard next > last else { throw AppleAPIError.malformedResponse(status: 200, excerpt: "nextPageIndex \(next) after page \(last)") }
                        planned = [next]
                    }
                }
            }
            if !versionChanged {
                let chain = Self.followChain(pages)
                return AppleWalk(items: chain.flatMap { pages[$0]!.items }, versionID: first.versionId,
                                 context: first.context, pagesFetched: pagesFetched, restarts: restarts)
            }
            restarts += 1
            if restarts > maxRestarts { throw AppleAPIError.pagingUnstable(restarts: restarts) }
        }
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

    private func fetchAll<Item: Sendable>(_ indexes: [Int], _ fetch: @escaping @Sendable (Int) async throws -> Page<Item>) async throws -> [(Int, Page<Item>)] {
        try await withThrowingTaskGroup(of: (Int, Page<Item>).self) { group in
            var results: [(Int, Page<Item>)] = []
            var pending = indexes.makeIterator()
            for _ in 0..<max(1, concurrency) {
                guard let index = pending.next() else { break }
                group.addTask { (index, try await fetch(index)) }
            }
            while let result = try await group.next() {
                results.append(result)
                if let index = pending.next() { group.addTask { (index, try await fetch(index)) } }
            }
            return results
        }
    }
}
