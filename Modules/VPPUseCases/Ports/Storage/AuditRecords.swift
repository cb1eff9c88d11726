import Foundation
import VPPDomain

/// Where an audit page ends: the last record's time and id (the listing's order is `at` then id, newest first).
public struct AuditCursor: Hashable, Sendable {
    public let at: Date
    public let id: UUID

    public init(at: Date, id: UUID) {
        self.at = at
        self.id = id
    }

    /// The cursor just after `record`.
    public init(after record: AuditRecord) { self.init(at: record.at, id: record.id) }
}

/// Which audit records a page lists; every field left nil matches all.
public struct AuditFilter: Hashable, Sendable {
    /// Records at or after this time.
    public var since: Date?
    /// Records before this time.
    public var until: Date?
    public var actor: String?
    public var action: String?

    public init(since: Date? = nil, until: Date? = nil, actor: String? = nil, action: String? = nil) {
        self.since = since
        self.until = until
        self.actor = actor
        self.action = action
    }
}

/// The tenant's audit log, inside its unit of work (see ``TenantTransaction``).
public protocol AuditRecords: Sendable {
    func appendAudit(_ record: AuditRecord) async throws
    /// Appends `records` in one statement (a batch of requests, each audited).
    func appendAudit(_ records: [AuditRecord]) async throws
    /// The newest `limit` records.
    func auditLog(limit: Int) async throws -> [AuditRecord]
    /// One page of records matching `filter`, newest first (`at` descending, then id descending), those after
    /// `before` (keyset: records written between pages never make a page repeat or skip one).
    func auditPage(before: AuditCursor?, limit: Int, filter: AuditFilter) async throws -> [AuditRecord]
}
