import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction {
    func upsertApps(_ assets: [Asset]) async throws {
        let rows: [[SQLValue]] = assets.map { asset in
            [
                tenant, .text(asset.key.adamID), .text(asset.key.pricingParam.rawValue),
                .text(asset.productType.rawValue),
                JSONList.encode(asset.platforms.map(\.rawValue).sorted()), .bool(asset.isDeviceAssignable),
                .bool(asset.isRevocable),
            ]
        }
        try await insertMany(
            "INSERT INTO apps (tenant_id, adam_id, pricing, product_type, platforms, device_assignable, revocable)",
            columns: 7, rows: rows,
            suffix: """
                ON CONFLICT (tenant_id, adam_id, pricing) DO UPDATE SET product_type = excluded.product_type,
                    platforms = excluded.platforms, device_assignable = excluded.device_assignable, revocable = excluded.revocable
                """)
    }

    func setMetadata(_ metadata: AppMetadata, for asset: AssetKey) async throws {
        let rows = try await exec(
            "UPDATE apps SET name = ?, bundle_id = ?, icon_url = ?, version = ? WHERE tenant_id = ? AND adam_id = ? AND pricing = ? RETURNING adam_id",
            [
                .text(metadata.name), .optional(metadata.bundleID), .optional(metadata.iconURL?.absoluteString),
                .optional(metadata.version),
                tenant, .text(asset.adamID), .text(asset.pricingParam.rawValue),
            ])
        if rows.isEmpty { throw StoreError.unknownApp(asset) }
    }

    private static let appColumns =
        "adam_id, pricing, product_type, platforms, device_assignable, revocable, name, bundle_id, icon_url, version"

    private func app(from row: SQLRow) throws -> AppRecord {
        let asset = Asset(
            key: AssetKey(adamID: try row.text(0), pricingParam: PricingParam(rawValue: try row.text(1)) ?? .standard),
            productType: ProductType(rawValue: try row.text(2)) ?? .app,
            platforms: Set(JSONList.decode(try row.optionalText(3)).compactMap(Platform.init(rawValue:))),
            isDeviceAssignable: try row.bool(4), isRevocable: try row.bool(5))
        let metadata = try row.optionalText(6).map { name in
            AppMetadata(
                name: name, bundleID: try row.optionalText(7),
                iconURL: try row.optionalText(8).flatMap(URL.init(string:)),
                version: try row.optionalText(9))
        }
        return AppRecord(asset: asset, metadata: metadata)
    }

    func apps() async throws -> [AppRecord] {
        try await exec("SELECT \(Self.appColumns) FROM apps WHERE tenant_id = ? ORDER BY adam_id, pricing", [tenant])
            .map(app(from:))
    }

    func app(_ key: AssetKey) async throws -> AppRecord? {
        try await exec(
            "SELECT \(Self.appColumns) FROM apps WHERE tenant_id = ? AND adam_id = ? AND pricing = ?",
            [tenant, .text(key.adamID), .text(key.pricingParam.rawValue)]
        ).first.map(app(from:))
    }

    func replaceCounts(tokenID: TokenID, _ counts: [AssetKey: LicenceCounts]) async throws {
        // Apple's snapshot gives the total and what Apple withholds; `assigned` is recounted from our rows
        // (which the merge just made equal to Apple's list, plus what is in flight), so a licence is counted
        // once whether Apple's event finished before or after the snapshot. The caller holds the counts'
        // locks (`lockCounts`), so no reservation interleaves; rows are updated in place, not replaced.
        let token = SQLValue.uuid(tokenID.rawValue)
        let held = try await exec(
            """
            SELECT adam_id, pricing, count(*) FROM assignments
            WHERE tenant_id = ? AND token_id = ? AND state IN (\(Self.holdingList())) GROUP BY adam_id, pricing
            """, [tenant, token])
        var heldByKey: [AssetKey: Int] = [:]
        for row in held {
            guard let pricing = PricingParam(rawValue: try row.text(1)) else { continue }
            heldByKey[AssetKey(adamID: try row.text(0), pricingParam: pricing)] = try row.int(2)
        }
        let stored = try await exec(
            "SELECT adam_id, pricing, total, withheld, assigned, available, retired FROM token_assets WHERE tenant_id = ? AND token_id = ?",
            [tenant, token])
        var before: [AssetKey: [Int]] = [:]
        for row in stored {
            guard let pricing = PricingParam(rawValue: try row.text(1)) else { continue }
            before[AssetKey(adamID: try row.text(0), pricingParam: pricing)] =
                [try row.int(2), try row.int(3), try row.int(4), try row.int(5), try row.int(6)]
        }
        var inserts: [[SQLValue]] = []
        for (key, apple) in counts.sorted(by: { $0.key < $1.key }) {
            let withheld = max(0, apple.total - apple.assigned - apple.available)
            let assigned = heldByKey[key] ?? 0
            let available = max(0, apple.total - withheld - assigned)
            let values = [apple.total, withheld, assigned, available, apple.retired]
            if let old = before[key] {
                // Unchanged counts are not rewritten.
                guard old != values else { continue }
                try await exec(
                    """
                    UPDATE token_assets SET total = ?, withheld = ?, assigned = ?, available = ?, retired = ?
                    WHERE tenant_id = ? AND token_id = ? AND adam_id = ? AND pricing = ?
                    """,
                    values.map { SQLValue.int(Int64($0)) } + [
                        tenant, token, .text(key.adamID), .text(key.pricingParam.rawValue),
                    ])
            } else {
                inserts.append(
                    [tenant, token, .text(key.adamID), .text(key.pricingParam.rawValue)]
                        + values.map { .int(Int64($0)) })
            }
        }
        try await insertMany(
            "INSERT INTO token_assets (tenant_id, token_id, adam_id, pricing, total, withheld, assigned, available, retired)",
            columns: 9, rows: inserts)
        for key in before.keys.sorted() where counts[key] == nil {
            try await exec(
                "DELETE FROM token_assets WHERE tenant_id = ? AND token_id = ? AND adam_id = ? AND pricing = ?",
                [tenant, token, .text(key.adamID), .text(key.pricingParam.rawValue)])
        }
    }

    func counts(tokenID: TokenID?) async throws -> [TokenAssetCounts] {
        try await counts(tokenID: tokenID, asset: nil)
    }

    func counts(asset: AssetKey) async throws -> [TokenAssetCounts] {
        try await counts(tokenID: nil, asset: asset)
    }

    private func counts(tokenID: TokenID?, asset: AssetKey?) async throws -> [TokenAssetCounts] {
        var sql =
            "SELECT token_id, adam_id, pricing, total, assigned, available, retired FROM token_assets WHERE tenant_id = ?"
        var binds = [tenant]
        if let tokenID {
            sql += " AND token_id = ?"
            binds.append(.uuid(tokenID.rawValue))
        }
        if let asset {
            sql += " AND adam_id = ? AND pricing = ?"
            binds += [.text(asset.adamID), .text(asset.pricingParam.rawValue)]
        }
        return try await exec(sql + " ORDER BY adam_id, pricing, token_id", binds).map { row in
            TokenAssetCounts(
                tokenID: TokenID(try row.uuid(0)),
                asset: AssetKey(
                    adamID: try row.text(1), pricingParam: PricingParam(rawValue: try row.text(2)) ?? .standard),
                counts: try LicenceCounts(
                    total: try row.int(3), assigned: min(try row.int(4), try row.int(3)),
                    available: try row.int(5), retired: try row.int(6)))
        }
    }

    func adjustCounts(tokenID: TokenID, asset: AssetKey, delta: Int) async throws {
        // A purchase, transfer or refund moves Apple's total; what is available follows from the rows held.
        // Neither goes below zero (a refund of licences in use leaves nothing available, not a debt).
        let greatest = dialect.greatest
        try await exec(
            """
            UPDATE token_assets SET total = \(greatest)(0, total + ?),
                available = \(greatest)(0, \(greatest)(0, total + ?) - withheld - assigned)
            WHERE tenant_id = ? AND token_id = ? AND adam_id = ? AND pricing = ?
            """,
            [
                .int(Int64(delta)), .int(Int64(delta)), tenant, .uuid(tokenID.rawValue),
                .text(asset.adamID), .text(asset.pricingParam.rawValue),
            ])
    }

    func deleteOrphanApps() async throws -> [AssetKey] {
        try await exec(
            """
            DELETE FROM apps WHERE tenant_id = ? AND NOT EXISTS (
                SELECT 1 FROM token_assets ta WHERE ta.tenant_id = apps.tenant_id AND ta.adam_id = apps.adam_id AND ta.pricing = apps.pricing)
            AND NOT EXISTS (
                SELECT 1 FROM assignments a WHERE a.tenant_id = apps.tenant_id AND a.adam_id = apps.adam_id AND a.pricing = apps.pricing)
            RETURNING adam_id, pricing
            """, [tenant]
        ).map { AssetKey(adamID: try $0.text(0), pricingParam: PricingParam(rawValue: try $0.text(1)) ?? .standard) }
    }
}
