import Foundation
import VPPDomain

/// One audit record as the API and the CLI show it.
public struct AuditView: Encodable, Sendable, Hashable {
    public let id: String
    /// RFC 3339 in UTC, to the millisecond.
    public let at: String
    public let actor: String
    public let action: String
    public let target: String
    public let outcome: String
    public let detail: String?

    public init(_ record: AuditRecord) {
        id = record.id.uuidString.lowercased()
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        at = formatter.string(from: record.at)
        actor = record.actor
        action = record.action
        target = record.target
        outcome = record.outcome
        detail = record.detail.isEmpty ? nil : record.detail
    }
}

/// The opaque keyset cursor of the audit listing (the last record's time and id, versioned).
public enum AuditListingCursor {
    static let prefix = "a1."

    public static func encode(_ record: AuditRecord) -> String {
        let text = "\(record.at.timeIntervalSince1970)|\(record.id.uuidString.lowercased())"
        return prefix + Data(text.utf8).base64EncodedString()
    }

    /// Reads a cursor; anything that is not one of ours is `nil`.
    public static func decode(_ cursor: String) -> AuditCursor? {
        guard cursor.hasPrefix(prefix), cursor.count < 120,
            let data = Data(base64Encoded: String(cursor.dropFirst(prefix.count)))
        else { return nil }
        let parts = String(decoding: data, as: UTF8.self).split(separator: "|")
        guard parts.count == 2, let seconds = Double(parts[0]), seconds.isFinite,
            let id = UUID(uuidString: String(parts[1]))
        else { return nil }
        return AuditCursor(at: Date(timeIntervalSince1970: seconds), id: id)
    }
}

extension Catalogue {
    /// A page of the tenant's audit log, newest first (keyset paging on time then id).
    /// - Parameter after: the `next` cursor of the previous page.
    public func auditPage(
        _ caller: Caller,
        filter: AuditFilter,
        after: String?,
        limit: Int
    ) async throws -> ListingPage<AuditView> {
        try caller.require(.read)
        let start = try Self.pageStart(limit: limit, after: after, decode: AuditListingCursor.decode)
        if let since = filter.since, let until = filter.until, since >= until {
            throw UseCaseError.badPageRequest("since must be before until")
        }
        let rows = try await store.inTenant(caller.tenantID) { tx in
            try await tx.auditPage(before: start, limit: limit + 1, filter: filter)
        }
        let page = Array(rows.prefix(limit))
        return ListingPage(
            items: page.map(AuditView.init),
            next: rows.count > limit ? page.last.map(AuditListingCursor.encode) : nil
        )
    }
}
