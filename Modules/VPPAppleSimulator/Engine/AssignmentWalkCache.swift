/// One filtered list of assignments, kept while a client pages through it.
///
/// Apple's `GET assignments` is paged; a client walks pages 0…n of one query. Without the cache the
/// simulator filtered every assignment of the location for every page, so a walk of 1,000,000 assignments
/// (2,000 pages) cost 2 × 10⁹ comparisons and looked like a stall. The key holds everything the answer
/// depends on (the location, its assignment revision and version, the filter without the page index), so a
/// write between pages simply misses the cache.
struct AssignmentWalkCache {
    struct Key: Equatable {
        let locationUID: String
        let revision: Int
        let version: Int
        let filter: [String: String]
    }

    let key: Key
    let matching: [SimAssignment]
}
