import Foundation
import VPPDomain

/// One status report a DDM server kept for an enrollment, as the device sent it.
public struct StoredStatusReport: Hashable, Sendable {
    /// The report's JSON (`StatusItems`, `Errors`), exactly as the device sent it.
    public let report: Data
    /// Names this report among the enrollment's (the server's report id, its time and content): a report read
    /// twice has the same fingerprint.
    public let fingerprint: String
    /// When the DDM server received it (KMFDDM's `Last-Modified`, to the second), when it says.
    public let receivedAt: Date?

    public init(report: Data, fingerprint: String, receivedAt: Date?) {
        self.report = report
        self.fingerprint = fingerprint
        self.receivedAt = receivedAt
    }
}

/// What reading an enrollment's status reports gave.
public enum StatusReportRead: Hashable, Sendable {
    /// The reports received since the one with the fingerprint asked about, newest first (empty: nothing new).
    case reports([StoredStatusReport])
    /// The server holds no report for the enrollment.
    case none
    /// The server could not be read (unreachable, refused the key, an error): try again later.
    case failed(String)
}

/// Reads devices' declarative status reports back from the DDM server that received them (KMFDDM:
/// `GET /v1/status-report/{enrollmentId}?index=N`).
public protocol DeclarationStatusReader: Sendable {
    /// The enrollment's reports newer than the one fingerprinted `after` (all, when nil), newest first: at most
    /// `limit`, none received before `notBefore`.
    func reports(enrollmentID: String, after: String?, notBefore: Date?, limit: Int) async -> StatusReportRead
}

/// Builds the status reader for a tenant's DDM server (the composition root knows the adapters and the outbound rule).
public protocol DeclarationStatusReaderFactory: Sendable {
    /// Runs `body` with a reader for the KMFDDM at `url`; throws when the URL is refused.
    func withStatusReader(
        url: String,
        apiKey: String,
        _ body: @Sendable (any DeclarationStatusReader) async throws -> PollDeclarationStatus.Outcome
    ) async throws -> PollDeclarationStatus.Outcome
}
