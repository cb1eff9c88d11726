import Foundation
import VPPDomain

/// One enrollment whose declarative status vpp reads back from the DDM server (KMFDDM keeps the status reports
/// when the devices' DeclarativeManagement check-ins go to it, not to vpp).
public struct DeclarationStatusPoll: Hashable, Sendable {
    public let enrollmentID: String
    /// Reads in a row that found nothing new or failed (the back-off's exponent).
    public let idle: Int
    /// The fingerprint of the newest report already recorded (nil: none yet).
    public let lastReport: String?
    /// The earliest time a report may be about this enrollment's current joins: older reports are not read.
    public let notBefore: Date?

    public init(enrollmentID: String, idle: Int, lastReport: String?, notBefore: Date?) {
        self.enrollmentID = enrollmentID
        self.idle = idle
        self.lastReport = lastReport
        self.notBefore = notBefore
    }
}

/// The status polls of a tenant's enrollments, inside its unit of work (see ``TenantTransaction``).
public protocol DeclarationStatusPollRecords {
    /// The managed user whose own enrollment `enrollmentID` is (linked by ``LinkUserEnrollment``), if any.
    func linkedUser(enrollmentID: String) async throws -> ClientUserID?
    /// Asks for the status of these enrollments to be read at `at` (a join reached the DDM server, or a
    /// declaration was re-published), resetting their back-off.
    func armStatusPolls(enrollmentIDs: [String], at: Date) async throws
    /// Takes up to `limit` enrollments whose read is due, moving each past `lease` so another server leaves it.
    func claimDueStatusPolls(now: Date, lease: TimeInterval, limit: Int) async throws -> [DeclarationStatusPoll]
    /// Records a read: the newest recorded report, the back-off and the last error. The next read is at `next`
    /// while the enrollment has a join that is not settled (joined, not left, its install neither `verified` nor
    /// `failed`), and never otherwise.
    /// - Returns: whether another read is planned.
    @discardableResult
    func finishStatusPoll(
        enrollmentID: String,
        lastReport: String?,
        idle: Int,
        error: String?,
        next: Date,
        now: Date
    ) async throws -> Bool
}
