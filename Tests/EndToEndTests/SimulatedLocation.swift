import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

/// A location on a running vppsim with one app, and a `.vpptoken` file minted for it.
struct SimulatedLocation {
    let uid: String
    let tokenFile: String

    /// Creates the location `name` with `licences` of `adamID` through vppsim's admin API.
    static func create(
        sim: String,
        name: String,
        adamID: String = "408709785",
        licences: Int
    ) async throws -> SimulatedLocation {
        try await create(sim: sim, name: name, apps: [(adamID, licences)])
    }

    /// Creates the location `name` with each app's licences through vppsim's admin API.
    static func create(
        sim: String,
        name: String,
        apps: [(adamID: String, licences: Int)]
    ) async throws -> SimulatedLocation {
        let (_, created) = try await TwoServersRaceTests.call("POST", sim + "/sim/locations", json: ["name": name])
        let uid = try #require((created as? [String: Any])?["uId"] as? String)
        for app in apps {
            _ = try await TwoServersRaceTests.call(
                "POST",
                sim + "/sim/locations/\(uid)/assets",
                json: ["adamId": app.adamID, "totalCount": app.licences]
            )
        }
        var mint = HTTPClientRequest(url: sim + "/sim/locations/\(uid)/tokens")
        mint.method = .POST
        let tokenFile = String(
            buffer: try await HTTPClient.shared.execute(mint, timeout: .seconds(10)).body.collect(upTo: 1 << 16)
        )
        return SimulatedLocation(uid: uid, tokenFile: tokenFile)
    }
}
