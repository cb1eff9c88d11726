import Foundation
import Testing
import VPPTestSupport

@testable import VPPHTTPAPI

/// Each error code comes with one status, and the document lists, per status, the codes it may carry.
@Suite("Error codes: one status each, documented per status")
struct ErrorCodeContractTests {
    @Test("every code is listed under exactly its own status in the document, and under no other")
    func documentedPerStatus() throws {
        let responses = try #require(
            (OpenAPIDocument.tree["components"] as? [String: Any])?["responses"] as? [String: Any]
        )
        func codes(_ name: String) -> Set<String> {
            let content = (responses[name] as? [String: Any])?["content"] as? [String: Any]
            let schema = (content?["application/json"] as? [String: Any])?["schema"] as? [String: Any]
            let error = (schema?["properties"] as? [String: Any])?["error"] as? [String: Any]
            let code = (error?["properties"] as? [String: Any])?["code"] as? [String: Any]
            return Set(code?["enum"] as? [String] ?? [])
        }
        #expect(codes("Error") == Set(APIErrorCode.allCases.map(\.rawValue)))
        for code in APIErrorCode.allCases {
            let listedUnder = responses.keys.filter { $0 != "Error" && codes($0).contains(code.rawValue) }
            #expect(listedUnder == ["Error\(code.status.code)"], "\(code.rawValue): \(listedUnder)")
        }
        // Operations point at the per-status answers.
        let paths = try #require(OpenAPIDocument.tree["paths"] as? [String: Any])
        let sync = (paths["/v1/tokens/{id}/sync"] as? [String: Any])?["post"] as? [String: Any]
        let conflict = (sync?["responses"] as? [String: Any])?["409"] as? [String: Any]
        #expect(conflict?["$ref"] as? String == "#/components/responses/Error409")
    }

    @Test("MDM refusals have codes of their own (they shared `refused` and `bad_request` across statuses)")
    func mdmCodes() async throws {
        try await withAPI(.sqlite) { api in
            var answer = try await api.call("GET", "/v1/mdm", key: api.readerKey)
            #expect(answer.status == 404 && answer.errorCode == "mdm_not_connected", "\(answer.text)")
            answer = try await api.call("PUT", "/v1/mdm", key: api.ownerKey, json: ["kind": "jamf"])
            #expect(answer.status == 422 && answer.errorCode == "invalid_mdm_connection", "\(answer.text)")
            answer = try await api.call(
                "PUT",
                "/v1/mdm",
                key: api.ownerKey,
                json: ["kind": "nanomdm", "url": "http://mdm.example"]
            )
            #expect(answer.status == 422 && answer.errorCode == "invalid_mdm_connection", "\(answer.text)")
            _ = try await api.call("PUT", "/v1/mdm", key: api.ownerKey, json: ["kind": "pull"])
            answer = try await api.call("GET", "/v1/device-commands?limit=0", key: api.readerKey)
            #expect(answer.status == 400 && answer.errorCode == "bad_query_parameter", "\(answer.text)")
            answer = try await api.call(
                "POST",
                "/v1/device-commands/not-a-uuid/ack",
                key: api.readerKey,
                json: ["status": "acknowledged"]
            )
            #expect(answer.status == 404 && answer.errorCode == "unknown_command", "\(answer.text)")
        }
    }
}
