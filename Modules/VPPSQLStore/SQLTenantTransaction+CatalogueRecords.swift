import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction: CatalogueRecords {
    func upsertApps(_ assets: [Asset]) async throws {
        // Apps already stored as Apple describes them are filtered out before the upsert and never reach its
        // ON CONFLICT, which would lock each one to the end of the sync's transaction even when it changes
        // nothing: every token of a tenant lists the same apps, so its syncs queued one behind another on those
        // locks (a tenant with 100 tokens: 75 ms per upsert). An unchanged app is not written either (rewriting
        // each row made an incremental sync grow with the number of apps). The columns are NOT NULL, so `=` and
        // `<>` are exact on both databases; VALUES' columns are column1… on both.
        try await insertMany(
            """
            INSERT INTO apps (tenant_id, adam_id, pricing, product_type, platforms, device_assignable, revocable)
            SELECT column1, column2, column3, column4, column5, column6, column7 FROM (
            """,
            rows: assets.map { asset in
                """
                (\(tenantID), \(asset.key.adamID), \(asset.key.pricingParam), \(asset.productType.rawValue),
                \(JSONList.encode(asset.platforms.map(\.rawValue).sorted())), \(asset.isDeviceAssignable),
                \(asset.isRevocable))
                """
            },
            suffix: """
                ) AS apple
                WHERE NOT EXISTS (
                    SELECT 1 FROM apps a WHERE a.tenant_id = apple.column1 AND a.adam_id = apple.column2
                    AND a.pricing = apple.column3 AND a.product_type = apple.column4 AND a.platforms = apple.column5
                    AND a.device_assignable = apple.column6 AND a.revocable = apple.column7)
                ON CONFLICT (tenant_id, adam_id, pricing) DO UPDATE SET product_type = excluded.product_type,
                    platforms = excluded.platforms, device_assignable = excluded.device_assignable,
                    revocable = excluded.revocable
                WHERE apps.product_type <> excluded.product_type OR apps.platforms <> excluded.platforms
                    OR apps.device_assignable <> excluded.device_assignable OR apps.revocable <> excluded.revocable
                """
        )
    }

    func setMetadata(_ metadata: AppMetadata, for asset: AssetKey) async throws {
        let rows = try await exec(
            """
            UPDATE apps SET name = \(metadata.name), bundle_id = \(metadata.bundleID),
                icon_url = \(metadata.iconURL?.absoluteString), version = \(metadata.version)
            WHERE tenant_id = \(tenantID) AND \(fragment: asset.matches()) RETURNING adam_id
            """
        )
        if rows.isEmpty { throw StoreError.unknownApp(asset) }
    }

    private func apps(where condition: SQLQuery, limit: Int? = nil) async throws -> [AppRecord] {
        let limitClause: SQLQuery = limit.map { "LIMIT \(max(0, $0))" } ?? ""
        return try await exec(
            """
            SELECT adam_id, pricing, product_type, platforms, device_assignable, revocable, name, bundle_id, icon_url,
                version
            FROM apps WHERE tenant_id = \(tenantID) AND \(fragment: condition) ORDER BY adam_id, pricing
            \(fragment: limitClause)
            """
        ).map { row in
            let asset = Asset(
                key: try row.assetKey(),
                productType: ProductType(rawValue: try row.decode("product_type")) ?? .app,
                platforms: Set(JSONList.decode(try row.decode("platforms")).compactMap(Platform.init(rawValue:))),
                isDeviceAssignable: try row.decode("device_assignable"),
                isRevocable: try row.decode("revocable")
            )
            let metadata = try row.decode("name", as: String?.self).map { name in
                AppMetadata(
                    name: name,
                    bundleID: try row.decode("bundle_id"),
                    iconURL: try row.decode("icon_url", as: String?.self).flatMap(URL.init(string:)),
                    version: try row.decode("version")
                )
            }
            return AppRecord(asset: asset, metadata: metadata)
        }
    }

    func apps() async throws -> [AppRecord] { try await apps(where: "true") }

    func app(_ key: AssetKey) async throws -> AppRecord? { try await apps(where: key.matches()).first }

    func apps(adamIDs: [String]) async throws -> [AppRecord] {
        // The primary key leads with (tenant_id, adam_id): each chunk is one index lookup list.
        try await lookupChunks(adamIDs) { try await apps(where: "adam_id IN (\(list: $0))") }
            .sorted { $0.asset.key < $1.asset.key }
    }

    func apps(bundleIDs: [String]) async throws -> [AppRecord] {
        // Migration 0012's (tenant_id, bundle_id) index.
        try await lookupChunks(bundleIDs) { try await apps(where: "bundle_id IN (\(list: $0))") }
            .sorted { $0.asset.key < $1.asset.key }
    }

    func appsMissingMetadata(limit: Int) async throws -> [AppRecord] {
        // Migration 0012's partial index holds only these rows.
        try await apps(where: "name IS NULL", limit: limit)
    }

    func counts(tokenID: TokenID?) async throws -> [TokenAssetCounts] {
        try await counts(tokenID: tokenID, asset: nil)
    }

    func counts(asset: AssetKey) async throws -> [TokenAssetCounts] {
        try await counts(tokenID: nil, asset: asset)
    }

    private func counts(tokenID: TokenID?, asset: AssetKey?) async throws -> [TokenAssetCounts] {
        var conditions: [SQLQuery] = ["tenant_id = \(tenantID)"]
        if let tokenID { conditions.append("token_id = \(tokenID)") }
        if let asset { conditions.append(asset.matches()) }
        return try await exec(
            """
            SELECT token_id, adam_id, pricing, total, assigned, unlisted, available, retired FROM token_assets
            WHERE \(fragment: .joined(conditions, separator: " AND ")) ORDER BY adam_id, pricing, token_id
            """
        ).map { row in
            let total: Int = try row.decode("total")
            return TokenAssetCounts(
                tokenID: try row.decode("token_id"),
                asset: try row.assetKey(),
                counts: try LicenceCounts(
                    // What Apple counts as assigned but does not list is assigned too (and never available).
                    total: total,
                    assigned: min(try row.decode("assigned") + (try row.decode("unlisted") as Int), total),
                    available: try row.decode("available"),
                    retired: try row.decode("retired")
                )
            )
        }
    }

    func adjustCounts(tokenID: TokenID, asset: AssetKey, delta: Int) async throws {
        // A purchase, transfer or refund moves Apple's total; what is available follows from the rows held.
        // Neither goes below zero (a refund of licences in use leaves nothing available, not a debt).
        let greatest = dialect.greatest
        try await exec(
            """
            UPDATE token_assets SET total = \(unescaped: greatest)(0, total + \(delta)),
                available = \(unescaped: greatest)(0, \(unescaped: greatest)(0, total + \(delta)) - withheld - assigned)
            WHERE tenant_id = \(tenantID) AND token_id = \(tokenID) AND \(fragment: asset.matches())
            """
        )
    }

    func deleteOrphanApps() async throws -> [AssetKey] {
        try await exec(
            """
            DELETE FROM apps WHERE tenant_id = \(tenantID) AND NOT EXISTS (
                SELECT 1 FROM token_assets ta WHERE ta.tenant_id = apps.tenant_id AND ta.adam_id = apps.adam_id
                    AND ta.pricing = apps.pricing)
            AND NOT EXISTS (
                SELECT 1 FROM assignments a WHERE a.tenant_id = apps.tenant_id AND a.adam_id = apps.adam_id
                    AND a.pricing = apps.pricing)
            RETURNING adam_id, pricing
            """
        ).map { try $0.assetKey() }
    }
}
