import Foundation
import VPPDomain

/// The storage port: PostgreSQL for many servers and tenants, SQLite for one machine.
///
/// All tenant data is reached through ``inTenant(_:_:)``, a unit of work bound to one tenant: the use
/// case's rows, counts, outbox entries and audit record commit together or not at all, and no query
/// inside can reach another tenant's rows.
public protocol Store: Sendable, TenantDirectory, Leases, MDMDirectory, ConsoleDirectory, AccessDirectory {
    /// Runs `body` in one transaction bound to `tenant`.
    func inTenant<T: Sendable>(
        _ tenant: TenantID,
        _ body: @Sendable (any TenantTransaction) async throws -> T
    ) async throws -> T
    /// Recurring work due now across all tenants (indexed queries, at most `limit` of each kind); a sync is
    /// due when its last success is older than `syncInterval` and its last attempt older than `retryAfter`.
    func dueWork(now: Date, syncInterval: TimeInterval, retryAfter: TimeInterval, limit: Int) async throws -> DueWork
    /// Queued Apple intents whose claim is free or expired, across all tenants (one indexed query).
    func dueIntents(now: Date, limit: Int) async throws -> [IntentGroup]
    /// The shared background-job queue.
    var jobs: any JobQueue { get }
    /// A per-key request limiter shared by every server using this store (Apple's 15 rps per token).
    var requestLimiter: any AppleRequestLimiter { get }
    /// Refreshes the query planner's statistics of the tables that changed by half their size (at least 1,000
    /// rows) since they were last taken, and returns their names; a store without a cost-based planner's
    /// statistics to keep returns none. Servers call it every few seconds: see the PostgreSQL adapter for why.
    func refreshStatistics() async throws -> [String]
}

/// Everything a use case may read or write for one tenant, inside one transaction: one port per aggregate.
public protocol TenantTransaction: Sendable, TokenRecords, CatalogueRecords, LedgerRecords, InventoryRecords,
    DeviceCommandRecords, NoticeRecords, AppleEventRecords, AuditRecords, MDMRecords, ConsoleRecords, AccessRecords,
    ScopeRecords, IdempotencyRecords, DeclarationRecords, DeclarationStatusRecords, DeclarationStatusPollRecords
{
    var tenantID: TenantID { get }
}
