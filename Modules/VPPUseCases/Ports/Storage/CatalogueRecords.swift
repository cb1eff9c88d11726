import Foundation
import VPPDomain

/// The tenant's app catalogue (apps and books its tokens carry, with their metadata) and each token's licence
/// counts per app, inside its unit of work (see ``TenantTransaction``).
public protocol CatalogueRecords: Sendable {
    func upsertApps(_ assets: [Asset]) async throws
    /// Throws ``StoreError/unknownApp(_:)`` when the tenant has no such app.
    func setMetadata(_ metadata: AppMetadata, for asset: AssetKey) async throws
    /// The whole catalogue, by Adam id: for listings that show every app (the catalogue view, reports).
    func apps() async throws -> [AppRecord]
    func app(_ key: AssetKey) async throws -> AppRecord?
    /// The apps with these Adam ids (every pricing of each), by Adam id: a device command names its app by
    /// Adam id, so delivery reads only the apps of the commands it sends.
    func apps(adamIDs: [String]) async throws -> [AppRecord]
    /// The apps whose metadata carries one of these bundle ids (an MDM reports installed apps by bundle id).
    func apps(bundleIDs: [String]) async throws -> [AppRecord]
    /// At most `limit` apps without metadata yet (name, bundle id, icon), by Adam id.
    func appsMissingMetadata(limit: Int) async throws -> [AppRecord]
    func counts(tokenID: TokenID?) async throws -> [TokenAssetCounts]
    /// One app's counts on every token that carries it.
    func counts(asset: AssetKey) async throws -> [TokenAssetCounts]
    /// Applies Apple's ASSET_COUNT `countDelta` (a purchase, transfer or refund) to one token's counts.
    func adjustCounts(tokenID: TokenID, asset: AssetKey, delta: Int) async throws
    /// Removes repository entries no token carries any more; returns them.
    func deleteOrphanApps() async throws -> [AssetKey]
}
