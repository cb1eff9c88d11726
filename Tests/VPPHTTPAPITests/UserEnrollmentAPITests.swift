import Foundation
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

@Suite("Users API: the MDM enrollment a user's declarations go to (both databases)")
struct UserEnrollmentAPITests {
    @Test(
        "PUT /v1/users/{id}/enrollment: linked, a bad id or an unknown user named and nothing changed, reader refused",
        arguments: StoreKind.allCases
    )
    func link(kind: StoreKind) async throws {
        try await withAPI(kind) { api in
            var answer = try await api.call(
                "POST",
                "/v1/users",
                key: api.adminKey,
                json: ["users": [["clientUserId": "ana-1"]]]
            )
            #expect(answer.status == 201, "\(answer.text)")
            func enrollment() async throws -> String? {
                try await api.world.useCases.linkUserEnrollment.enrollment(
                    api.world.admin,
                    try ClientUserID("ana-1")
                )
            }
            answer = try await api.call(
                "PUT",
                "/v1/users/ana-1/enrollment",
                key: api.adminKey,
                json: ["enrollmentId": "ENR-ana:1"]
            )
            #expect(answer.status == 200 && answer.object["enrollmentId"] as? String == "ENR-ana:1", "\(answer.text)")
            #expect(try await enrollment() == "ENR-ana:1")
            for bad in ["../admin", "a b", String(repeating: "x", count: 129)] {
                answer = try await api.call(
                    "PUT",
                    "/v1/users/ana-1/enrollment",
                    key: api.adminKey,
                    json: ["enrollmentId": bad]
                )
                #expect(answer.status == 422 && answer.errorCode == "out_of_range", "\(answer.text)")
                #expect(answer.errorMessage.contains("enrollmentId"))
            }
            // The body's clientUserId (answered, not needed) is refused when the contract refuses it.
            for (named, code) in [(" ana-1", "invalid_client_user_id"), ("bob", "out_of_range")] {
                answer = try await api.call(
                    "PUT",
                    "/v1/users/ana-1/enrollment",
                    key: api.adminKey,
                    json: ["clientUserId": named, "enrollmentId": "ENR-other"]
                )
                #expect(answer.status == 422 && answer.errorCode == code, "\(named): \(answer.text)")
                #expect(answer.errorMessage.contains("clientUserId") || code == "invalid_client_user_id")
            }
            answer = try await api.call(
                "PUT",
                "/v1/users/ana-1/enrollment",
                key: api.adminKey,
                json: ["clientUserId": "ana-1", "enrollmentId": "ENR-ana:1"]
            )
            #expect(answer.status == 200, "the path's user repeated: \(answer.text)")
            answer = try await api.call(
                "PUT",
                "/v1/users/bob/enrollment",
                key: api.adminKey,
                json: ["enrollmentId": "ENR-bob"]
            )
            #expect(answer.status == 422 && answer.errorCode == "unknown_users" && answer.errorMessage.contains("bob"))
            answer = try await api.call(
                "PUT",
                "/v1/users/ana-1/enrollment",
                key: api.readerKey,
                json: ["enrollmentId": "ENR-x"]
            )
            #expect(answer.status == 403)
            #expect(try await enrollment() == "ENR-ana:1", "nothing changed by the refusals")
            answer = try await api.call("PUT", "/v1/users/ana-1/enrollment", key: api.adminKey, json: [:])
            #expect(answer.status == 200 && answer.object["enrollmentId"] == nil)
            #expect(try await enrollment() == nil, "unlinked")
        }
    }
}
