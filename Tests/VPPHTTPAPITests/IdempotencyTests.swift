import Foundation
import Testing
import VPPTestSupport

/// `Idempotency-Key` over HTTP: a client that lost an answer asks again and gets the same one, without the
/// write being carried out twice.
@Suite("REST API: Idempotency-Key on writes")
struct IdempotencyTests {
    @Test(
        "a retry with the same key gets the first answer (not 'already licensed'); another body is 422; per tenant",
        arguments: [StoreKind.postgres, .sqlite]
    )
    func retries(kind: StoreKind) async throws {
        try await withAPI(kind) { api in
            let (file, _) = try await api.world.location("Main Campus", assets: [keynoteSim])
            let key = UUID().uuidString
            let upload = try await api.call(
                "POST",
                "/v1/tokens",
                key: api.adminKey,
                json: ["token": String(decoding: file, as: UTF8.self)],
                headers: ["Idempotency-Key": key]
            )
            #expect(upload.status == 201)
            let id = try #require((upload.object["token"] as? [String: Any])?["id"] as? String)
            let uploadAgain = try await api.call(
                "POST",
                "/v1/tokens",
                key: api.adminKey,
                json: ["token": String(decoding: file, as: UTF8.self)],
                headers: ["Idempotency-Key": key]
            )
            #expect(uploadAgain.status == 201 && uploadAgain.body == upload.body, "the first answer, replayed")
            #expect(try await api.call("POST", "/v1/tokens/\(id)/sync", key: api.adminKey).status == 200)
            _ = try await api.call(
                "POST",
                "/v1/devices",
                key: api.adminKey,
                json: ["devices": [["serialNumber": "C02XK1JHJG5J"]]]
            )

            let assignKey = UUID().uuidString
            let body: [String: Any] = ["serialNumbers": ["C02XK1JHJG5J"]]
            let first = try await api.call(
                "POST",
                "/v1/apps/408709785/licenses",
                key: api.adminKey,
                json: body,
                headers: ["Idempotency-Key": assignKey]
            )
            #expect(first.status == 202)
            let retry = try await api.call(
                "POST",
                "/v1/apps/408709785/licenses",
                key: api.adminKey,
                json: body,
                headers: ["Idempotency-Key": assignKey]
            )
            #expect(retry.status == 202 && retry.body == first.body, "\(retry.status) \(retry.text)")
            let withoutKey = try await api.call(
                "POST",
                "/v1/apps/408709785/licenses",
                key: api.adminKey,
                json: body
            )
            #expect(withoutKey.errorCode == "already_licensed", "without a key, a second assignment is refused")
            let licences = try await api.call("GET", "/v1/licenses", key: api.readerKey)
            #expect(licences.array.count == 1, "carried out once")

            let other = try await api.call(
                "POST",
                "/v1/apps/408709785/licenses",
                key: api.adminKey,
                json: ["serialNumbers": ["C02XK1JHJG5K"]],
                headers: ["Idempotency-Key": assignKey]
            )
            #expect(other.status == 422 && other.errorCode == "idempotency_key_reused", "\(other.text)")
            let bad = try await api.call(
                "POST",
                "/v1/devices",
                key: api.adminKey,
                json: ["devices": [["serialNumber": "C02XK1JHJG5K"]]],
                headers: ["Idempotency-Key": "has space"]
            )
            #expect(bad.status == 422 && bad.errorCode == "invalid_idempotency_key")

            // A refusal is an answer too: replayed as given, even once the cause is gone.
            let refusalKey = UUID().uuidString
            let refused = try await api.call(
                "POST",
                "/v1/apps/408709785/licenses",
                key: api.adminKey,
                json: ["serialNumbers": ["C02XK1JHJG5Z"]],
                headers: ["Idempotency-Key": refusalKey]
            )
            #expect(refused.status == 422)
            _ = try await api.call(
                "POST",
                "/v1/devices",
                key: api.adminKey,
                json: ["devices": [["serialNumber": "C02XK1JHJG5Z"]]]
            )
            let refusedAgain = try await api.call(
                "POST",
                "/v1/apps/408709785/licenses",
                key: api.adminKey,
                json: ["serialNumbers": ["C02XK1JHJG5Z"]],
                headers: ["Idempotency-Key": refusalKey]
            )
            #expect(refusedAgain.status == 422 && refusedAgain.body == refused.body)

            // Another tenant's identical key is its own.
            let stranger = try await api.call(
                "POST",
                "/v1/devices",
                key: api.strangerKey,
                json: ["devices": [["serialNumber": "C02XK1JHJG5J"]]],
                headers: ["Idempotency-Key": assignKey]
            )
            #expect(stranger.status == 201)
            // A read ignores the header.
            let read = try await api.call("GET", "/v1/licenses", key: api.readerKey, headers: ["Idempotency-Key": "x"])
            #expect(read.status == 200)
        }
    }

    @Test(
        "a write whose answer was lost is not carried out again (409); a lost refusal is carried out again",
        arguments: [StoreKind.postgres, .sqlite]
    )
    func lostAnswers(kind: StoreKind) async throws {
        try await withAPI(kind) { api in
            try await api.syncedToken(devices: ["C02XK1JHJG5J"])
            // What a server killed between the write's commit and keeping the answer leaves behind: a claim
            // without an answer whose time has run out.
            let loseAnswer: @Sendable (String) async throws -> Void = { key in
                try await api.world.sut.raw(
                    """
                    UPDATE idempotency_keys SET status = NULL, content_type = NULL, body = NULL, claimed_until = 0
                    WHERE idempotency_key = \(key)
                    """
                )
            }
            let assign: @Sendable (String, String) async throws -> APIBench.Answer = { serial, key in
                try await api.call(
                    "POST",
                    "/v1/apps/408709785/licenses",
                    key: api.adminKey,
                    json: ["serialNumbers": [serial]],
                    headers: ["Idempotency-Key": key]
                )
            }
            let written = UUID().uuidString
            #expect(try await assign("C02XK1JHJG5J", written).status == 202)
            try await loseAnswer(written)
            let retry = try await assign("C02XK1JHJG5J", written)
            #expect(retry.status == 409 && retry.errorCode == "idempotency_outcome_lost", "\(retry.text)")
            let again = try await assign("C02XK1JHJG5J", written)
            #expect(again.errorCode == "idempotency_outcome_lost", "the same answer for every later retry")
            #expect(try await api.call("GET", "/v1/licenses", key: api.readerKey).array.count == 1)

            // A refusal changes nothing: lost, its retry is carried out (and refused again, for the same reason).
            let unwritten = UUID().uuidString
            #expect(try await assign("C02UNKNOWN01", unwritten).status == 422)
            try await loseAnswer(unwritten)
            let rerun = try await assign("C02UNKNOWN01", unwritten)
            #expect(rerun.status == 422 && rerun.errorCode == "unknown_devices", "\(rerun.text)")
        }
    }
}
