import Foundation
import VPPDomain

/// The tenant's e-mail notices (token expiry warnings and the like) waiting to be sent or sent, inside its
/// unit of work (see ``TenantTransaction``).
public protocol NoticeRecords: Sendable {
    /// Inserts the notice unless one with the same (token, kind, expiry) exists; returns whether it did.
    func enqueueNotice(_ notice: Notice) async throws -> Bool
    /// Every notice, sent or not (tests and diagnostics; delivery reads ``dueNotices(now:limit:)``).
    func notices() async throws -> [Notice]
    /// Notices not yet sent whose next attempt is due (an index range, not every notice ever sent).
    func dueNotices(now: Date, limit: Int) async throws -> [Notice]
    func updateNotice(_ notice: Notice) async throws
}
