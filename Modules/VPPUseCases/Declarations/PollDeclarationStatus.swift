import Foundation
import Logging
import VPPDomain

/// Reads devices' declarative status back from KMFDDM. Behind NanoMDM and KMFDDM the devices' DeclarativeManagement
/// check-ins go to KMFDDM, not to vpp's webhook, so vpp asks KMFDDM for the status reports of the enrollments whose
/// declarations are not settled yet (joined and not `verified` or `failed`: pending, failing or healing) and feeds
/// each new report into ``RecordDeviceStatus``, the path posted reports and webhook check-ins take, so verifying
/// and healing `Error.LicenseNotFound` work the same.
///
/// An enrollment is read when its join reaches KMFDDM and when its declaration is re-published (the store arms
/// it), then every ``interval`` doubled per read that found nothing new (at most 16 times), until its joins are
/// settled. Batches of at most ``batchSize`` are claimed under a lease (so replicas read different enrollments) and
/// read ``concurrentReads`` at a time; a report read twice is recorded once (its fingerprint is kept). Nothing is
/// read when the tenant's DDM server is not KMFDDM.
public struct PollDeclarationStatus: Sendable {
    let store: any Store
    let clock: any Clock
    let secrets: any SecretBox
    let logger: Logger
    let readers: any DeclarationStatusReaderFactory
    let record: RecordDeviceStatus
    /// Seconds between reads of an enrollment that is not settled (`VPP_DECLARATION_STATUS_POLL_SECONDS`).
    public let interval: TimeInterval
    public let batchSize = 100
    /// Batches per run (the device-command job's), so one run keeps up with thousands of due enrollments.
    public let maxBatches = 20
    /// Reports read per enrollment and pass, newest back (KMFDDM keeps several; its file storage only the last).
    public let reportsPerRead = 5
    /// Enrollments read at once in a pass.
    public let concurrentReads = 8
    /// How long a server holds the enrollments it claimed.
    public let lease: TimeInterval = 120

    /// Takes only what this use case touches.
    public init(
        store: any Store,
        clock: any Clock,
        secrets: any SecretBox,
        logger: Logger,
        readers: any DeclarationStatusReaderFactory,
        record: RecordDeviceStatus,
        interval: TimeInterval = 60
    ) {
        self.store = store
        self.clock = clock
        self.secrets = secrets
        self.logger = logger
        self.readers = readers
        self.record = record
        self.interval = max(1, interval)
    }

    /// Counts of one pass.
    public struct Outcome: Hashable, Sendable {
        /// Enrollments read, reports recorded, reads that failed, reports vpp could not record.
        public var read = 0, recorded = 0, failed = 0, rejected = 0
        public init() {}
    }

    /// When an enrollment read `idle` times in a row without news is read next: the first miss waits the interval
    /// (the device may not have evaluated yet), each further one doubles it, up to 16 intervals.
    public func delay(idle: Int) -> TimeInterval { interval * Double(1 << min(max(idle - 1, 0), 4)) }

    /// Reads the due enrollments of the tenant, a batch at a time until none is due (at most ``maxBatches``);
    /// nothing unless its DDM server is KMFDDM.
    @discardableResult
    public func callAsFunction(_ tenantID: TenantID) async throws -> Outcome {
        var total = Outcome()
        for _ in 0..<maxBatches {
            let outcome = try await batch(tenantID)
            total.read += outcome.read
            total.recorded += outcome.recorded
            total.failed += outcome.failed
            total.rejected += outcome.rejected
            if outcome.read < batchSize { break }
        }
        return total
    }

    /// Claims and reads one batch.
    func batch(_ tenantID: TenantID) async throws -> Outcome {
        let now = clock.now()
        let (settings, polls) = try await store.inTenant(tenantID) { tx in
            let settings = try await tx.declarationPublisher()
            guard settings.kind == .kmfddm else { return (settings, [DeclarationStatusPoll]()) }
            return (settings, try await tx.claimDueStatusPolls(now: now, lease: lease, limit: batchSize))
        }
        guard settings.kind == .kmfddm, !polls.isEmpty, let url = settings.url, let sealed = settings.apiKey else {
            return Outcome()
        }
        let key = try secrets.open(sealed)
        let this = self
        return try await readers.withStatusReader(url: url, apiKey: key) { reader in
            // A few enrollments at once: each read waits on KMFDDM and its own transaction, not on the others.
            try await withThrowingTaskGroup(of: Outcome.self) { group in
                var outcome = Outcome()
                var pending = polls[...]
                func add(_ group: inout ThrowingTaskGroup<Outcome, any Error>) {
                    guard let poll = pending.popFirst() else { return }
                    group.addTask { try await this.read(tenantID, poll, reader, Outcome()) }
                }
                for _ in 0..<this.concurrentReads { add(&group) }
                while let one = try await group.next() {
                    outcome.read += one.read
                    outcome.recorded += one.recorded
                    outcome.failed += one.failed
                    outcome.rejected += one.rejected
                    add(&group)
                }
                return outcome
            }
        }
    }

    func read(
        _ tenantID: TenantID,
        _ poll: DeclarationStatusPoll,
        _ reader: any DeclarationStatusReader,
        _ before: Outcome
    ) async throws -> Outcome {
        var outcome = before
        outcome.read += 1
        var lastReport = poll.lastReport
        var idle = poll.idle + 1
        var error: String?
        switch await reader.reports(
            enrollmentID: poll.enrollmentID,
            after: poll.lastReport,
            notBefore: poll.notBefore,
            limit: reportsPerRead
        ) {
        case .reports(let reports) where !reports.isEmpty:
            idle = 0
            // Oldest first: a device reports only what changed, so each report counts in its order.
            for report in reports.reversed() {
                do {
                    _ = try await record(
                        .system(tenantID),
                        enrollmentID: poll.enrollmentID,
                        report: report.report,
                        receivedAt: report.receivedAt
                    )
                    outcome.recorded += 1
                } catch let refused as StatusReportError {
                    outcome.rejected += 1
                    error = "a status report could not be read: \(refused)"
                } catch UseCaseError.unknownEnrollment {
                    outcome.rejected += 1
                    error = "no device is enrolled as \(poll.enrollmentID)"
                }
                lastReport = report.fingerprint
            }
        case .reports, .none:
            break
        case .failed(let reason):
            outcome.failed += 1
            error = reason
            // KMFDDM's storages answer 500, not 404, for an enrollment with no report yet (the read at join time
            // usually is one): only a failure that repeats is worth a warning; every one is on the poll's row.
            guard poll.idle >= 2 else { break }
            logger.warning(
                "reading declarative status from KMFDDM failed",
                metadata: ["tenant": "\(tenantID)", "enrollment": "\(poll.enrollmentID)", "error": "\(reason)"]
            )
        }
        let now = clock.now()
        let (newest, misses, why) = (lastReport, idle, error)
        _ = try await store.inTenant(tenantID) { tx in
            try await tx.finishStatusPoll(
                enrollmentID: poll.enrollmentID,
                lastReport: newest,
                idle: misses,
                error: why,
                next: now.addingTimeInterval(delay(idle: misses)),
                now: now
            )
        }
        return outcome
    }
}
