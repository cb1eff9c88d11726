import Foundation
import VPPDomain

/// Sends queued notices by e-mail, retrying failures with ``RetryBackoff/notices`` (1, 2, 4 … minutes, at most
/// an hour).
public struct DeliverNotices: Sendable {
    let store: any Store
    let clock: any Clock
    let mailer: (any Mailer)?
    public let backoff = RetryBackoff.notices

    /// Takes only what this use case touches.
    public init(store: any Store, clock: any Clock, mailer: (any Mailer)?) {
        self.store = store
        self.clock = clock
        self.mailer = mailer
    }

    /// - Returns: how many were sent now.
    @discardableResult
    public func callAsFunction(_ tenantID: TenantID) async throws -> Int {
        guard let mailer = mailer else { return 0 }
        let now = clock.now()
        let due = try await store.inTenant(tenantID) { tx in
            try await tx.dueNotices(now: now, limit: 500)
        }
        var sent = 0
        for var notice in due {
            do {
                try await mailer.send(to: notice.recipients, subject: notice.subject, body: notice.body)
                notice.sentAt = clock.now()
                notice.lastError = nil
                sent += 1
            } catch {
                notice.lastError = "\(error)"
                notice.nextAttemptAt = now.addingTimeInterval(backoff.delay(afterFailures: notice.attempts + 1))
            }
            notice.attempts += 1
            let update = notice
            try await store.inTenant(tenantID) { tx in try await tx.updateNotice(update) }
        }
        return sent
    }
}
