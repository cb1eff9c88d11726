import Foundation
import VPPDomain

/// Apple's Apps and Books for Organizations v2 API, as the use cases need it.
///
/// Implementations batch by Apple's limits, walk every page, retry with back-off and honour the
/// per-token request rate; every method throws ``AppleAPIError``.
public protocol AppleAppsAndBooks: Sendable {
    /// `GET service/config` (cached; refreshed at most every 5 minutes).
    func serviceLimits() async throws -> AppleServiceLimits
    /// `GET client/config`.
    func clientConfig(_ credentials: AppleCredentials) async throws -> AppleLocationConfig
    /// `POST client/config`: claims the token with `holder` and/or configures notifications.
    func updateClientConfig(
        _ credentials: AppleCredentials,
        holder: HolderIdentity?,
        notifications: AppleNotificationSettings?
    ) async throws -> AppleLocationConfig
    /// `GET assets`, every page.
    func assets(_ credentials: AppleCredentials, filter: AppleAssetFilter) async throws -> AppleWalk<AppleAssetRecord>
    /// `GET assignments`, every page.
    func assignments(
        _ credentials: AppleCredentials,
        filter: AppleAssignmentFilter
    ) async throws -> AppleWalk<AppleAssignmentRecord>
    /// `GET assignments`, every page, handed to `page` as it arrives so memory does not grow with the number
    /// of assignments. When Apple's data changes mid-walk, `restart` is called and the walk begins again.
    /// - Returns: the walk without its items.
    func streamAssignments(
        _ credentials: AppleCredentials,
        filter: AppleAssignmentFilter,
        restart: @Sendable () async throws -> Void,
        page: @Sendable ([AppleAssignmentRecord]) async throws -> Void
    ) async throws -> AppleWalk<AppleAssignmentRecord>
    /// `POST assets/associate`, in as many calls as the limits require.
    func associate(
        _ credentials: AppleCredentials,
        assets: [AssetKey],
        serialNumbers: [String],
        clientUserIDs: [String]
    ) async throws -> [AppleEventTicket]
    /// `POST assets/disassociate`, batched.
    func disassociate(
        _ credentials: AppleCredentials,
        assets: [AssetKey],
        serialNumbers: [String],
        clientUserIDs: [String]
    ) async throws -> [AppleEventTicket]
    /// `POST assets/revoke`: every revocable asset of these devices and users, batched by the revoke limits.
    func revoke(
        _ credentials: AppleCredentials,
        serialNumbers: [String],
        clientUserIDs: [String]
    ) async throws -> [AppleEventTicket]
    /// `GET status?eventId=…`.
    func eventStatus(_ credentials: AppleCredentials, eventID: String) async throws -> AppleEventStatus
    /// `GET users`, every page.
    func users(_ credentials: AppleCredentials, filter: AppleUserFilter) async throws -> AppleWalk<AppleUserRecord>
    /// `POST users/create`, batched by `maxUsers`.
    func createUsers(_ credentials: AppleCredentials, _ users: [AppleUserRequest]) async throws -> [AppleEventTicket]
    /// `POST users/update`, batched.
    func updateUsers(_ credentials: AppleCredentials, _ users: [AppleUserRequest]) async throws -> [AppleEventTicket]
    /// `POST users/retire`, batched.
    func retireUsers(_ credentials: AppleCredentials, clientUserIDs: [String]) async throws -> [AppleEventTicket]
}

/// Store metadata for apps (Apple's licensing API returns none).
public protocol AppMetadataLookup: Sendable {
    /// Metadata by adamId; ids the store does not know are absent from the result.
    func metadata(
        adamIDs: [String],
        countryCode: String,
        credentials: AppleCredentials?
    ) async throws -> [String: AppMetadata]
}

/// Spaces requests to Apple so one token never exceeds its rate, however many servers share it.
///
/// The in-process ``InProcessRequestLimiter`` serves one server; a database-backed limiter shares the
/// budget between all servers.
public protocol AppleRequestLimiter: Sendable {
    /// Waits until one more request for `key` fits within `perSecond`.
    func acquire(key: String, perSecond: Int) async throws
}
