import Foundation
import Testing
import VPPAppleSimulator

/// The simulator's App Store lookup answers from an index, not a walk over every location; these pin what the
/// walk answered, which the index must keep.
@Suite("Simulator: the App Store lookup")
struct StoreLookupTests {
    @Test("an app is described by the first location holding it; an app nobody holds is left out")
    func firstHolderAnswers() async throws {
        let simulator = AppleSimulator()
        let first = await simulator.createLocation(name: "First")
        let second = await simulator.createLocation(name: "Second")
        // The second location bought both apps first; the first location buys one of them later.
        try await simulator.upsertAssets(
            [
                SimAsset(adamId: "700001", totalCount: 5, name: "Second's copy"),
                SimAsset(adamId: "700002", totalCount: 5, name: "Only at Second"),
            ],
            at: second
        )
        try await simulator.upsertAsset(SimAsset(adamId: "700001", totalCount: 5, name: "First's copy"), at: first)
        let response = await simulator.handle(
            SimRequest(
                method: "GET",
                path: "/WebObjects/MZStorePlatform.woa/wa/lookup",
                query: ["id": "700001,700002,799999"]
            )
        )
        let body = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
        let results = try #require(body["results"] as? [String: [String: Any]])
        #expect(results["700001"]?["name"] as? String == "First's copy")
        #expect(results["700002"]?["name"] as? String == "Only at Second")
        #expect(results["799999"] == nil && results.count == 2)
    }
}
