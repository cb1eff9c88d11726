import Foundation

/// The admin API (`/sim/...`) and the legacy metadata lookup, over the engine's admin surface.
extension AppleSimulator {
    /// Routes everything that is not Apple's v2 API.
    public func handle(_ request: SimRequest) async -> SimResponse {
        if request.path.hasPrefix(Self.apiPrefix) { return await handleAppleAPI(request) }
        if request.path == Self.lookupPath { return lookup(request) }
        if request.path.hasPrefix("/sim/") {
            do { return try await handleAdmin(request) } catch {
                return .json(400, ["error": "\(error)"])
            }
        }
        return .json(404, ["error": "no such path \(request.path)"])
    }

    private func handleAdmin(_ request: SimRequest) async throws -> SimResponse {
        let parts = request.path.split(separator: "/").map(String.init).dropFirst()  // drop "sim"
        let body =
            request.body.isEmpty
            ? [:] : ((try? JSONSerialization.jsonObject(with: request.body)) as? [String: Any] ?? [:])
        switch (request.method, Array(parts)) {
        case ("GET", ["locations"]):
            let list = locationOrder.compactMap { snapshot(of: $0) }
            return .json(200, ["locations": try jsonObject(list)])
        case ("POST", ["locations"]):
            guard let name = body["name"] as? String else { throw SimAdminError("give a name") }
            let uid = createLocation(
                name: name,
                countryCode: body["countryCode"] as? String ?? "US",
                orgName: body["orgName"] as? String,
                uId: body["uId"] as? String
            )
            return .json(201, ["uId": uid])
        case ("POST", let p) where p.count == 3 && p[0] == "locations" && p[2] == "assets":
            let raw = body["assets"] as? [[String: Any]] ?? [body]
            let assets = try raw.map {
                try JSONDecoder().decode(SimAsset.self, from: JSONSerialization.data(withJSONObject: $0))
            }
            // One asset (a purchase, say) notifies ASSET_COUNT when its count moves; bulk seeding does not.
            if assets.count == 1 { try upsertAsset(assets[0], at: p[1]) } else { try upsertAssets(assets, at: p[1]) }
            return .json(200, ["count": assets.count])
        case ("POST", let p) where p.count == 3 && p[0] == "locations" && p[2] == "assignments":
            try seedAssignments(
                adamId: body["adamId"] as? String ?? "",
                pricingParam: body["pricingParam"] as? String ?? "STDQ",
                serialNumbers: body["serialNumbers"] as? [String] ?? [],
                clientUserIds: body["clientUserIds"] as? [String] ?? [],
                at: p[1]
            )
            return .json(200, [:])
        case ("DELETE", let p) where p.count == 3 && p[0] == "locations" && p[2] == "assignments":
            try dropAssignments(
                adamId: body["adamId"] as? String ?? "",
                pricingParam: body["pricingParam"] as? String ?? "STDQ",
                serialNumbers: body["serialNumbers"] as? [String] ?? [],
                clientUserIds: body["clientUserIds"] as? [String] ?? [],
                at: p[1]
            )
            return .json(200, [:])
        case ("POST", let p) where p.count == 3 && p[0] == "locations" && p[2] == "tokens":
            let days = body["validDays"] as? Double ?? 365
            let text = try mintToken(for: p[1], expiresAt: now().addingTimeInterval(days * 86_400))
            return SimResponse(
                status: 201,
                headers: [
                    "Content-Type": "application/octet-stream",
                    "Content-Disposition": "attachment; filename=\"\(p[1]).vpptoken\"",
                ],
                body: Data(text.utf8)
            )
        case ("POST", let p) where p.count == 3 && p[0] == "locations" && p[2] == "expire":
            expireTokens(of: p[1])
            return .json(200, [:])
        case ("POST", let p) where p.count == 3 && p[0] == "locations" && p[2] == "revoke":
            revokeTokens(of: p[1])
            return .json(200, [:])
        case ("PUT", let p) where p.count == 3 && p[0] == "locations" && p[2] == "mdm-info":
            let info: SimMDMInfo
            if body["appleConfigurator"] as? Bool == true {
                info = .appleConfigurator
            } else {
                info = try JSONDecoder().decode(SimMDMInfo.self, from: request.body)
            }
            try setMDMInfo(info, at: p[1])
            return .json(200, [:])
        case ("DELETE", let p) where p.count == 3 && p[0] == "locations" && p[2] == "mdm-info":
            try setMDMInfo(nil, at: p[1])
            return .json(200, [:])
        case ("POST", ["faults"]):
            injectFault(try JSONDecoder().decode(SimulatorFault.self, from: request.body))
            return .json(200, ["pending": faults.count])
        case ("DELETE", ["faults"]):
            clearFaults()
            return .json(200, [:])
        case ("GET", ["stats"]):
            return .json(200, ["requests": requestCounts, "rateLimited": rateLimitedCount])
        case ("DELETE", ["stats"]):
            resetRequestCounts()
            return .json(200, [:])
        case ("GET", ["settings"]):
            return .json(200, try jsonObject(settings))
        case ("PUT", ["settings"]):
            replaceSettings(try JSONDecoder().decode(SimulatorSettings.self, from: request.body))
            return .json(200, try jsonObject(settings))
        case ("GET", ["licences"]):
            return .json(200, ["licences": licences(request.query)])
        case ("GET", ["licence-log"]):
            return .json(200, ["changes": licenceLog(since: request.query["since"].flatMap(Double.init))])
        default:
            return .json(404, ["error": "unknown admin request \(request.method) \(request.path)"])
        }
    }

    private func jsonObject<T: Encodable>(_ value: T) throws -> Any {
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(value))
    }

    //  The legacy `contentMetadataLookup` shape: `results{adamId: {name, bundleId, artwork,
    // offers[].version.display}}`.
    private func lookup(_ request: SimRequest) -> SimResponse {
        let ids = Set((request.query["id"] ?? "").split(separator: ",").map(String.init))
        var results: [String: Any] = [:]
        for id in ids {
            guard let location = lookupHolder[id].flatMap({ locations[$0] }),
                let asset = ["STDQ", "PLUS"].lazy.compactMap({
                    location.assets[SimAssetKey(adamId: id, pricingParam: $0)]
                }).first
            else { continue }
            results[asset.adamId] =
                [
                    "id": asset.adamId, "name": asset.name, "bundleId": asset.bundleId,
                    "kind": asset.productType == "Book" ? "ebook" : "iosSoftware",
                    "artwork": [
                        "url": "https://is1-ssl.mzstatic.com/image/thumb/\(asset.adamId)/{w}x{h}bb.{f}",
                        "width": 1024, "height": 1024,
                    ],
                    "offers": [["version": ["display": asset.version]]],
                    "deviceFamilies": asset.supportedPlatforms.contains("macOS")
                        ? ["iphone", "ipad", "mac"] : ["iphone", "ipad"],
                    "isVppDeviceBasedLicensingEnabled": asset.deviceAssignable,
                ] as [String: Any]
        }
        return .json(200, ["results": results, "isAuthenticated": false])
    }
}
