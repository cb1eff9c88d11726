import Foundation

/// A JSON file describing locations, assets and tokens to create at start (`vppsim serve --seed FILE`).
///
/// ```json
/// {"locations": [{"name": "Main Campus", "countryCode": "US", "uId": "1001",
///                 "assets": [{"adamId": "408709785", "totalCount": 50}],
///                 "holder": "apple-configurator",
///                 "tokens": [{"file": "main.vpptoken", "validDays": 365}]}]}
/// ```
public struct SimulatorSeed: Codable, Sendable {
    public struct SeedLocation: Codable, Sendable {
        public var name: String
        public var countryCode: String?
        public var uId: String?
        public var assets: [SimAsset]?
        /// `"apple-configurator"` to start the location held by Apple Configurator 2.
        public var holder: String?
        public var tokens: [SeedToken]?
    }

    public struct SeedToken: Codable, Sendable {
        /// Where to write the minted `.vpptoken` (relative to the seed file).
        public var file: String
        public var validDays: Double?
    }

    public var locations: [SeedLocation]
    public var settings: SimulatorSettings?
}

extension AppleSimulator {
    /// Applies a seed; token files are written next to `baseDirectory`. Returns the written paths.
    @discardableResult
    public func apply(_ seed: SimulatorSeed, baseDirectory: URL) throws -> [String] {
        if let settings = seed.settings { replaceSettings(settings) }
        var written: [String] = []
        for location in seed.locations {
            let uid = createLocation(name: location.name, countryCode: location.countryCode ?? "US", uId: location.uId)
            try upsertAssets(location.assets ?? [], at: uid)
            if location.holder == "apple-configurator" { try setMDMInfo(.appleConfigurator, at: uid) }
            for token in location.tokens ?? [] {
                let text = try mintToken(
                    for: uid,
                    expiresAt: now().addingTimeInterval((token.validDays ?? 365) * 86_400)
                )
                let url = baseDirectory.appendingPathComponent(token.file)
                try Data(text.utf8).write(to: url, options: .atomic)
                written.append(url.path)
            }
        }
        return written
    }
}
