import Foundation
import VPPDomain

/// A tenant's content tokens (one per Apple location), their sealed secrets and sync state, inside its unit
/// of work (see ``TenantTransaction``). A tenant holds a handful of tokens, so ``tokens()`` is a small read.
public protocol TokenRecords: Sendable {
    /// Throws ``StoreError/duplicateLocation(locationName:)`` when the tenant already has the location.
    func insertToken(_ token: ContentToken, secret: SealedSecret) async throws
    func updateToken(_ token: ContentToken) async throws
    func replaceTokenSecret(_ id: TokenID, secret: SealedSecret) async throws
    func token(_ id: TokenID) async throws -> ContentToken?
    func token(locationAppleID: String) async throws -> ContentToken?
    func tokenSecret(_ id: TokenID) async throws -> SealedSecret?
    /// Every token of the tenant, by location name (one row per Apple location: a few, not thousands).
    func tokens() async throws -> [ContentToken]
    /// Deletes the token with its counts, assignments, sync state and pending events.
    func deleteToken(_ id: TokenID) async throws
    /// The bearer Apple puts on notifications for this token (sealed).
    func setNotificationSecret(_ id: TokenID, secret: SealedSecret) async throws
    func notificationSecret(_ id: TokenID) async throws -> SealedSecret?
    func syncState(_ id: TokenID) async throws -> TokenSyncState?
    func saveSyncState(_ state: TokenSyncState) async throws
}
