import Foundation
import Logging
import VPPDomain

/// Writes the tenant's audit log: inside the unit of work that made the change, or on its own for refusals.
public struct AuditTrail: Sendable {
    let store: any Store
    let clock: any Clock
    let logger: Logger

    public init(store: any Store, clock: any Clock, logger: Logger) {
        self.store = store
        self.clock = clock
        self.logger = logger
    }

    /// Appends a line in `tx`, so it commits (or rolls back) with the change it describes.
    public func record(_ tx: any TenantTransaction, _ caller: Caller, _ entry: AuditEntry) async throws {
        try await tx.appendAudit(AuditRecord(at: clock.now(), actor: caller.admin.name, entry: entry))
    }

    /// Appends one line per caller in `tx`, in one statement: a batch of requests doing the same thing, each
    /// audited as its own (its caller, its entry).
    public func record(_ tx: any TenantTransaction, _ lines: [(caller: Caller, entry: AuditEntry)]) async throws {
        let now = clock.now()
        try await tx.appendAudit(lines.map { AuditRecord(at: now, actor: $0.caller.admin.name, entry: $0.entry) })
    }

    /// Records a line in its own unit of work (for refusals, where the main one rolled back). Best effort:
    /// a failure to record is logged, never thrown over the refusal the caller must see.
    public func recordSeparately(_ caller: Caller, _ entry: AuditEntry) async {
        do {
            try await store.inTenant(caller.tenantID) { tx in try await record(tx, caller, entry) }
        } catch {
            logger.warning(
                "could not record audit",
                metadata: ["action": "\(entry.action.rawValue)", "error": "\(error)"]
            )
        }
    }
}
