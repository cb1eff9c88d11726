import Foundation
import VPPDomain

/// The opaque keyset cursor of a user listing (the last user's id, versioned so its shape may change).
public enum UserCursor {
    static let prefix = "u1."

    public static func encode(_ id: ClientUserID) -> String {
        prefix + Data(id.value.utf8).base64EncodedString()
    }

    /// Reads a cursor; anything that is not one of ours is `nil`.
    public static func decode(_ cursor: String) -> ClientUserID? {
        guard cursor.hasPrefix(prefix), cursor.count < 400,
            let data = Data(base64Encoded: String(cursor.dropFirst(prefix.count)))
        else { return nil }
        return try? ClientUserID(String(decoding: data, as: UTF8.self))
    }
}

extension Catalogue {
    /// A page of managed users ordered by id (keyset paging, like ``devicePage(_:filter:after:limit:)``).
    /// - Parameters:
    ///   - search: only users whose id or e-mail contains it (case-insensitive); nil or empty: all.
    ///   - after: the `next` cursor of the previous page.
    public func userPage(
        _ caller: Caller,
        search: String?,
        after: String?,
        limit: Int
    ) async throws -> ListingPage<UserView> {
        try caller.require(.read)
        let start = try Self.pageStart(limit: limit, after: after, decode: UserCursor.decode)
        let rows = try await store.inTenant(caller.tenantID) { tx in
            try await tx.userPage(after: start, limit: limit + 1, search: search)
        }
        let page = Array(rows.prefix(limit))
        return ListingPage(
            items: page.map(UserView.init),
            next: rows.count > limit ? page.last.map { UserCursor.encode($0.clientUserID) } : nil
        )
    }
}
