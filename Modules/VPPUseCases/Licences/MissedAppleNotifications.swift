import Foundation
import Synchronization
import VPPDomain

/// Apple's notifications this server had to refuse because the database was unavailable (answered 503).
/// Apple does not send them again soon, so without this their events waited for the 5-minute poll after the
/// database came back. The background worker calls ``catchUp(now:)`` each tick: once the database answers,
/// the refused tokens' pending events are polled at once.
///
/// In memory, per server: a server that dies with refusals recorded leaves them to the ordinary poll.
public final class MissedAppleNotifications: Sendable {
    private let tokens = Mutex<Set<TokenID>>([])

    public init() {}

    /// Notes that a notification for `tokenID` was refused for want of the database.
    public func record(_ tokenID: TokenID) {
        _ = tokens.withLock { $0.insert(tokenID) }
    }

    /// Whether any refusal waits to be caught up.
    public var isEmpty: Bool { tokens.withLock { $0.isEmpty } }

    /// Brings forward the polls of the refused tokens' pending events and queues their tenants' poll job now;
    /// a token stays recorded while the database still fails. Returns the number of events brought forward.
    @discardableResult
    public func catchUp(store: any Store, now: Date) async -> Int {
        let waiting = tokens.withLock { $0 }
        var moved = 0
        for tokenID in waiting {
            do {
                if let tenant = try await store.tenantOwning(tokenID: tokenID) {
                    moved += try await store.inTenant(tenant) { tx in
                        try await tx.pollEventsSoon(tokenID: tokenID, at: now)
                    }
                    try await store.jobs.enqueue(
                        JobRequest(tenantID: tenant, kind: .pollEvents, key: .tenant, runAt: now)
                    )
                }
                _ = tokens.withLock { $0.remove(tokenID) }
            } catch {
                // Still unavailable: tried again at the next tick.
            }
        }
        return moved
    }
}
