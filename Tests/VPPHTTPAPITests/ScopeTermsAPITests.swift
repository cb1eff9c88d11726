import Foundation
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

@Suite("Scopes API: the declaration's Install, Version and automatic updates (both databases)")
struct ScopeTermsAPITests {
    @Test(
        "PUT/GET /v1/scopes: terms stored and read back; version with automatic updates is a 422 that stores nothing",
        arguments: StoreKind.allCases
    )
    func terms(kind: StoreKind) async throws {
        try await withAPI(kind) { api in
            try await api.syncedToken(devices: ["C02XK1JHJG5J"])
            let base: [String: Any] = ["adamId": "408709785", "serialNumbers": ["C02XK1JHJG5J"], "mode": "declaration"]
            func put(_ extra: [String: Any]) async throws -> APIBench.Answer {
                try await api.call(
                    "PUT",
                    "/v1/scopes/k",
                    key: api.adminKey,
                    json: base.merging(extra) { _, new in new }
                )
            }
            var answer = try await put(["version": 42, "automaticUpdates": "AlwaysOn"])
            #expect(answer.status == 422 && answer.errorCode == "invalid_declaration_terms", "\(answer.text)")
            #expect(answer.errorMessage.contains("automatic updates"), "\(answer.errorMessage)")
            answer = try await api.call("GET", "/v1/scopes/k", key: api.readerKey)
            #expect(answer.status == 404, "nothing stored: \(answer.text)")
            answer = try await put(["install": "Sometimes"])
            #expect(
                answer.status == 422 && answer.errorCode == "out_of_range" && answer.errorMessage.contains("install")
            )
            answer = try await put(["version": 0])
            #expect(answer.status == 422 && answer.errorCode == "invalid_declaration_terms", "\(answer.text)")
            answer = try await api.call("GET", "/v1/scopes/k", key: api.readerKey)
            #expect(answer.status == 404, "nothing stored: \(answer.text)")

            answer = try await put([:])
            #expect(answer.status == 202, "\(answer.text)")
            answer = try await api.call("GET", "/v1/scopes/k", key: api.readerKey)
            #expect(answer.object["install"] as? String == "Required" && answer.object["version"] == nil)

            answer = try await put(["install": "Optional", "version": 8_675_309])
            #expect(answer.status == 202, "\(answer.text)")
            answer = try await api.call("GET", "/v1/scopes/k", key: api.readerKey)
            #expect(answer.object["install"] as? String == "Optional", "\(answer.text)")
            #expect(answer.object["version"] as? Int == 8_675_309 && answer.object["automaticUpdates"] == nil)

            // Refused on an existing scope: the stored terms stay.
            answer = try await put(["version": 1, "automaticUpdates": "StoreSettings"])
            #expect(answer.status == 422)
            answer = try await api.call("GET", "/v1/scopes/k", key: api.readerKey)
            #expect(answer.object["version"] as? Int == 8_675_309 && answer.object["automaticUpdates"] == nil)

            answer = try await put(["automaticUpdates": "StoreSettings"])
            answer = try await api.call("GET", "/v1/scopes", key: api.readerKey)
            let listed = answer.array.first ?? [:]
            #expect(listed["automaticUpdates"] as? String == "StoreSettings" && listed["version"] == nil)
        }
    }
}
