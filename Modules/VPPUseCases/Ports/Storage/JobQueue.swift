import Foundation
import VPPDomain

/// A job to run in the background on whichever server claims it first.
public struct JobRequest: Hashable, Sendable {
    public let tenantID: TenantID
    public let kind: JobKind
    /// Deduplicates: one queued job per (tenant, kind, key), e.g. one sync per token.
    public let key: JobKey
    public let runAt: Date

    public init(tenantID: TenantID, kind: JobKind, key: JobKey, runAt: Date) {
        self.tenantID = tenantID
        self.kind = kind
        self.key = key
        self.runAt = runAt
    }
}

/// A job a worker holds a lease on.
public struct ClaimedJob: Hashable, Sendable {
    public let id: UUID
    public let tenantID: TenantID
    public let kind: JobKind
    public let key: JobKey
    public let attempts: Int
    public let leaseOwner: String
    public let leaseUntil: Date

    public init(
        id: UUID,
        tenantID: TenantID,
        kind: JobKind,
        key: JobKey,
        attempts: Int,
        leaseOwner: String,
        leaseUntil: Date
    ) {
        self.id = id
        self.tenantID = tenantID
        self.kind = kind
        self.key = key
        self.attempts = attempts
        self.leaseOwner = leaseOwner
        self.leaseUntil = leaseUntil
    }
}

/// The shared job queue: claims with leases that expire, so a job whose worker died runs again, and two
/// workers never hold the same job at once.
public protocol JobQueue: Sendable {
    /// Queues the job unless the same (tenant, kind, key) is already queued; returns whether it did. A queued
    /// job due later that was never tried nor claimed is brought forward to this job's time (returns true).
    @discardableResult
    func enqueue(_ job: JobRequest) async throws -> Bool
    /// ``enqueue(_:)`` for many jobs in few statements (the scheduler's pass over every tenant); returns how many
    /// were queued or brought forward. A job named twice counts once, at its earlier time.
    @discardableResult
    func enqueue(_ jobs: [JobRequest]) async throws -> Int
    /// Claims up to `limit` due jobs whose lease is free or expired.
    func claim(owner: String, now: Date, lease: TimeInterval, limit: Int) async throws -> [ClaimedJob]
    /// Finishes a job; false when the lease was lost (another worker took it over).
    @discardableResult
    func complete(_ job: ClaimedJob) async throws -> Bool
    /// Puts the job back to run at `retryAt`, recording why it failed.
    func retry(_ job: ClaimedJob, at retryAt: Date, error: String) async throws
    /// Jobs queued or running (for metrics).
    func depth() async throws -> Int
}
