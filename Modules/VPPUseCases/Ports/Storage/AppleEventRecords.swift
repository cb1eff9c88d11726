import Foundation
import VPPDomain

/// What the tenant is waiting to hear from Apple: events whose status is still to be polled, and the ids of
/// notifications already handled, inside its unit of work (see ``TenantTransaction``).
public protocol AppleEventRecords: Sendable {
    /// Records events to poll; an event already recorded gets the new `nextPollAt`.
    func insertPendingEvents(_ events: [PendingAppleEvent]) async throws
    /// Every pending event, by next poll (whole table: tests and diagnostics).
    func pendingEvents() async throws -> [PendingAppleEvent]
    /// The pending event with this id, if it is still pending.
    func pendingEvent(_ eventID: String) async throws -> PendingAppleEvent?
    /// At most `limit` pending events whose next poll is due at `now`, the longest-waiting first.
    func dueEvents(now: Date, limit: Int) async throws -> [PendingAppleEvent]
    func deletePendingEvent(_ eventID: String) async throws
    /// Brings the next poll of `tokenID`'s pending events forward to `at` (those due later); returns how many.
    func pollEventsSoon(tokenID: TokenID, at: Date) async throws -> Int
    /// Records a notification id; false when it was already handled (Apple retries and duplicates).
    func markNotificationProcessed(_ notificationID: String, type: String, at: Date) async throws -> Bool
}
