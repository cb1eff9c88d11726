import Foundation
import VPPDomain

/// The `Idempotency-Key` claim the current task's writes belong to, carried as a task-local value from the HTTP
/// edge down to the store. Every tenant transaction that writes under it also marks the claim *carried out*, in
/// the same transaction: if the server dies (or the database goes away) after the commit and before the answer
/// is kept, a retry learns that the write happened instead of carrying it out a second time.
///
/// A task-local rather than a parameter for the reason ``WorkDeadline`` is one: every use case and port would
/// otherwise pass it through, and a forgotten hop would silently reopen the window.
public struct IdempotentRequest: Hashable, Sendable {
    public let tenantID: TenantID
    public let key: String
    public let fingerprint: String

    public init(tenantID: TenantID, key: String, fingerprint: String) {
        self.tenantID = tenantID
        self.key = key
        self.fingerprint = fingerprint
    }

    /// The claim whose request is running in this task, if any.
    @TaskLocal public static var current: IdempotentRequest?
}
