import Foundation
import Testing
import VPPAppleSimulator
import VPPDomain
import VPPTestSupport
import VPPUseCases

@testable import VPPHTTPAPI

/// Issue 16: what an attacker, a careless client and a misconfigured replica will do. Each test failed
/// before its fix; every loop is bounded and every socket is on 127.0.0.1.
@Suite("API hardening")
struct HardeningTests {
    /// Text a client must never see: the database's own words.
    static let databaseWords = [
        "PostgreSQL", "postgres", "SQLite", "constraint", "violates", "duplicate key", "SQLSTATE", "syntax",
    ]

    static func upload(_ api: APIBench, _ name: String = "Main Campus") async throws -> String {
        let (file, _) = try await api.world.location(name, assets: [keynoteSim])
        let upload = try await api.call(
            "POST",
            "/v1/tokens",
            key: api.adminKey,
            json: ["token": String(decoding: file, as: UTF8.self)]
        )
        return try #require((upload.object["token"] as? [String: Any])?["id"] as? String)
    }

    @Test(
        """
        query parameters are strict (dryRun=TRUE/yes/on → 400 naming it) and DELETE removes a token only \
        with confirm=true
        """
    )
    func strictQueryAndConfirmation() async throws {
        try await withAPI(.sqlite) { api in
            let id = try await Self.upload(api)
            for value in ["TRUE", "True", "yes", "on", "1", "", "false%20"] {
                let answer = try await api.call("DELETE", "/v1/tokens/\(id)?dryRun=\(value)", key: api.adminKey)
                #expect(
                    answer.status == 400 && answer.errorCode == "bad_query_parameter",
                    "dryRun=\(value): \(answer.status) \(answer.text)"
                )
                #expect(
                    answer.errorMessage.contains("dryRun") && answer.errorMessage.contains("true, false"),
                    "\(answer.errorMessage)"
                )
            }
            for query in ["confirm=yes", "force=true", "confirm=true&confirm=true"] {
                let answer = try await api.call("DELETE", "/v1/tokens/\(id)?\(query)", key: api.adminKey)
                #expect(answer.status == 400 && answer.errorCode == "bad_query_parameter", "\(query): \(answer.text)")
            }
            let xml = try await api.call("GET", "/v1/reports/licenses?format=xml", key: api.readerKey)
            #expect(xml.status == 400 && xml.errorMessage.contains("format") && xml.errorMessage.contains("json, csv"))
            #expect(
                try await api.call("GET", "/v1/tokens/\(id)", key: api.readerKey).status == 200,
                "nothing changed by refused requests"
            )

            let plan = try await api.call("DELETE", "/v1/tokens/\(id)", key: api.adminKey)
            #expect(plan.status == 200 && plan.object["applied"] as? Bool == false, "no parameter: only the plan")
            let dry = try await api.call("DELETE", "/v1/tokens/\(id)?dryRun=true&confirm=true", key: api.adminKey)
            #expect(dry.status == 200 && dry.object["applied"] as? Bool == false, "dryRun=true wins over confirm")
            let notConfirmed = try await api.call("DELETE", "/v1/tokens/\(id)?dryRun=false", key: api.adminKey)
            #expect(notConfirmed.object["applied"] as? Bool == false, "dryRun=false alone does not remove")
            #expect(try await api.call("GET", "/v1/tokens/\(id)", key: api.readerKey).status == 200)
            let removed = try await api.call("DELETE", "/v1/tokens/\(id)?confirm=true", key: api.adminKey)
            #expect(removed.status == 200 && removed.object["applied"] as? Bool == true)
            #expect(try await api.call("GET", "/v1/tokens/\(id)", key: api.readerKey).status == 404)
        }
    }

    @Test(
        "a manual sync needs a write role, and concurrent syncs of one token join the running one (Apple called once)"
    )
    func syncNeedsWriteRoleAndCoalesces() async throws {
        try await withAPI(.postgres) { api in
            let id = try await Self.upload(api)
            let readOnly = try await api.call("POST", "/v1/tokens/\(id)/sync", key: api.readerKey)
            #expect(readOnly.status == 403 && readOnly.errorCode == "forbidden")
            await api.world.simulator.resetRequestCounts()
            let alone = try await api.call("POST", "/v1/tokens/\(id)/sync", key: api.adminKey)
            #expect(
                alone.status == 200 && alone.object["started"] as? Bool == true && alone.object["assets"] as? Int == 1
            )
            let oneSync = await api.world.simulator.totalRequests()
            #expect(oneSync > 0)

            // The first sync is held at Apple for 1.5 s; six more requests arrive meanwhile.
            await api.world.simulator.resetRequestCounts()
            await api.world.simulator.injectFault(
                SimulatorFault(kind: .slow, count: 1, pathContains: "assets", delayMilliseconds: 1500)
            )
            let first = Task { try await api.call("POST", "/v1/tokens/\(id)/sync", key: api.adminKey) }
            // Wait until the first sync is at Apple (holding its lease), not a fixed time.
            for _ in 0..<200 where await api.world.simulator.requestCount("assets") == 0 {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(await api.world.simulator.requestCount("assets") == 1)
            let others = try await withThrowingTaskGroup(of: APIBench.Answer.self) { group in
                // Six, so that with the first they fit the HTTP client's connection pool and all arrive during the
                // sync.
                for _ in 0..<6 {
                    group.addTask { try await api.call("POST", "/v1/tokens/\(id)/sync", key: api.adminKey) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let firstAnswer = try await first.value
            #expect(firstAnswer.status == 200 && firstAnswer.object["started"] as? Bool == true)
            for answer in others {
                #expect(
                    answer.status == 200 && answer.object["started"] as? Bool == false,
                    "joined, answered when it ended: \(answer.text)"
                )
            }
            let calls = await api.world.simulator.totalRequests()
            #expect(calls <= oneSync, "seven requests cost one sync's Apple calls (\(calls) vs \(oneSync))")
        }
    }

    @Test(
        """
        API keys: create with name, creator, expiry and role; list without secrets; revoke and rotate take \
        effect at once
        """
    )
    func apiKeyLifecycle() async throws {
        try await withAPI(.postgres) { api in
            let forbidden = try await api.call("GET", "/v1/api-keys", key: api.adminKey)
            #expect(forbidden.status == 403, "app-management cannot manage keys")
            let badRole = try await api.call(
                "POST",
                "/v1/api-keys",
                key: api.ownerKey,
                json: ["name": "ci", "role": "root"]
            )
            #expect(badRole.status == 422 && badRole.errorCode == "invalid_api_key_request")
            let created = try await api.call(
                "POST",
                "/v1/api-keys",
                key: api.ownerKey,
                json: ["name": "ci", "role": "read-only"]
            )
            #expect(created.status == 201)
            let key = try #require(created.object["key"] as? String)
            let keyID = try #require((created.object["apiKey"] as? [String: Any])?["id"] as? String)
            #expect((created.object["apiKey"] as? [String: Any])?["createdBy"] as? String == "api-key:owner")
            #expect(try await api.call("GET", "/v1/tokens", key: key).status == 200)

            let list = try await api.call("GET", "/v1/api-keys", key: api.ownerKey)
            #expect(
                list.status == 200 && !list.text.contains("vpp_") && !list.text.contains(SHA256Digest.hex(of: key)),
                "never the key or its hash"
            )
            let ci = try #require(list.array.first { $0["id"] as? String == keyID })
            #expect(ci["role"] as? String == "read-only" && ci["lastUsedAt"] is String && ci["expiresAt"] == nil)

            let revoked = try await api.call("DELETE", "/v1/api-keys/\(keyID)", key: api.ownerKey)
            #expect(revoked.status == 200 && revoked.object["revokedAt"] is String)
            #expect(
                try await api.call("GET", "/v1/tokens", key: key).status == 401,
                "revoked: refused on the very next request"
            )
            #expect(
                try await api.call("DELETE", "/v1/api-keys/\(UUID().uuidString)", key: api.ownerKey).errorCode
                    == "unknown_api_key"
            )

            let second = try await api.call(
                "POST",
                "/v1/api-keys",
                key: api.ownerKey,
                json: ["name": "gitops", "role": "app-management"]
            )
            let secondKey = try #require(second.object["key"] as? String)
            let secondID = try #require((second.object["apiKey"] as? [String: Any])?["id"] as? String)
            let rotated = try await api.call("POST", "/v1/api-keys/\(secondID)/rotate", key: api.ownerKey)
            let newKey = try #require(rotated.object["key"] as? String)
            #expect(
                rotated.status == 201 && newKey != secondKey
                    && (rotated.object["apiKey"] as? [String: Any])?["role"] as? String == "app-management"
            )
            #expect(try await api.call("GET", "/v1/tokens", key: secondKey).status == 401)
            #expect(try await api.call("GET", "/v1/tokens", key: newKey).status == 200)

            let expiry = ISO8601Timestamp.format(api.world.clock.now().addingTimeInterval(86_400))
            let expiring = try await api.call(
                "POST",
                "/v1/api-keys",
                key: api.ownerKey,
                json: ["name": "temp", "role": "read-only", "expiresAt": expiry]
            )
            let expiringKey = try #require(expiring.object["key"] as? String)
            #expect(try await api.call("GET", "/v1/tokens", key: expiringKey).status == 200)
            api.world.clock.advance(days: 2)
            #expect(try await api.call("GET", "/v1/tokens", key: expiringKey).status == 401, "expired")
            let past = try await api.call(
                "POST",
                "/v1/api-keys",
                key: api.ownerKey,
                json: ["name": "old", "role": "read-only", "expiresAt": expiry]
            )
            #expect(past.status == 422)
        }
    }

    @Test(
        """
        bad input is refused at the edge with 422 and a specific code, never a 503 or database text, and \
        changes nothing
        """
    )
    func validationAtTheEdge() async throws {
        try await withAPI(.postgres) { api in
            _ = try await Self.upload(api)
            _ = try await api.call("POST", "/v1/tokens/\(try await Self.firstTokenID(api))/sync", key: api.adminKey)
            let cases: [(String, String, [String: Any], String)] = [
                (
                    "POST", "/v1/devices", ["devices": [["serialNumber": "C02XK1JHJG5J", "name": "Lab\u{0}Mac"]]],
                    "control_characters"
                ),
                (
                    "POST", "/v1/devices",
                    ["devices": [["serialNumber": "C02XK1JHJG5J"], ["serialNumber": "c02xk1jhjg5j"]]], "duplicate_items"
                ),
                // The same serial once with a trailing space (schemathesis found it answered 503: both reached one
                // multi-row upsert as the same row).
                (
                    "POST", "/v1/devices",
                    ["devices": [["serialNumber": "00000000 "], ["serialNumber": "00000000"]]], "duplicate_items"
                ),
                (
                    "POST", "/v1/apps/408709785/licenses", ["serialNumbers": [" C02XK1JHJG5J", "c02xk1jhjg5j"]],
                    "duplicate_items"
                ),
                (
                    "POST", "/v1/devices",
                    ["devices": [["serialNumber": "C02XK1JHJG5J", "name": String(repeating: "n", count: 201)]]],
                    "too_long"
                ),
                ("POST", "/v1/devices", ["devices": [["serialNumber": "C02XK1\u{FB00}JG5J"]]], "invalid_serial_number"),
                (
                    "POST", "/v1/devices",
                    ["devices": [["serialNumber": "C02XK1JHJG5J", "installedAdamIds": ["12a"]]]], "invalid_adam_id"
                ),
                (
                    "POST", "/v1/devices",
                    ["devices": [["serialNumber": "C02XK1JHJG5J", "installedAdamIds": ["\u{0661}\u{0662}"]]]],
                    "invalid_adam_id"
                ),
                (
                    "POST", "/v1/users", ["users": [["clientUserId": "u1", "email": "a@b.example\u{7}"]]],
                    "control_characters"
                ),
                ("POST", "/v1/users", ["users": [["clientUserId": "u1"], ["clientUserId": "u1"]]], "duplicate_items"),
                (
                    "POST", "/v1/apps/408709785/licenses", ["serialNumbers": ["C02XK1JHJG5J"], "pricingParam": "GOLD"],
                    "invalid_pricing_param"
                ),
                ("POST", "/v1/apps/408709785x/licenses", ["serialNumbers": ["C02XK1JHJG5J"]], "invalid_adam_id"),
                (
                    "POST", "/v1/apps/408709785/licenses", ["serialNumbers": ["C02XK1JHJG5J", "C02XK1JHJG5J"]],
                    "duplicate_items"
                ),
                (
                    "POST", "/v1/apps/408709785/licenses",
                    ["serialNumbers": (0...10_000).map { String(format: "C%011d", $0) }], "too_many_items"
                ),
                ("POST", "/v1/tokens", ["token": String(repeating: "A", count: 20_000)], "too_long"),
            ]
            for (method, path, body, code) in cases {
                let answer = try await api.call(method, path, key: api.adminKey, json: body)
                #expect(
                    answer.status == 422 && answer.errorCode == code,
                    "\(path) → \(code): \(answer.status) \(answer.text.prefix(300))"
                )
                for word in Self.databaseWords {
                    #expect(!answer.text.contains(word), "\(path): \(answer.text.prefix(300))")
                }
            }
            #expect(
                try await api.call("GET", "/v1/devices", key: api.readerKey).array.isEmpty,
                "no refused request changed anything"
            )
            #expect(try await api.call("GET", "/v1/users", key: api.readerKey).array.isEmpty)
            #expect(try await api.call("GET", "/v1/licenses", key: api.readerKey).array.isEmpty)
        }
    }

    static func firstTokenID(_ api: APIBench) async throws -> String {
        try #require(try await api.call("GET", "/v1/tokens", key: api.readerKey).array.first?["id"] as? String)
    }

    @Test(
        """
        Apple's notification envelope: over-long ids, bad adamIds and out-of-range countDelta are 422, not \
        database errors
        """
    )
    func webhookEnvelopeValidation() throws {
        func envelope(_ notification: [String: Any], id: String = "n-1") throws -> Data {
            try JSONSerialization.data(withJSONObject: [
                "notificationId": id, "notificationType": "ASSET_COUNT", "notification": notification,
            ])
        }
        #expect(throws: InvalidInput.self) {
            try AppleWebhookGate.validate(try envelope([:], id: String(repeating: "x", count: 250_000)))
        }
        #expect(throws: InvalidInput.self) {
            try AppleWebhookGate.validate(try envelope(["adamId": "1", "countDelta": 9_223_372_036_854_775_807]))
        }
        #expect(throws: InvalidInput.self) {
            try AppleWebhookGate.validate(try envelope(["adamId": "1", "countDelta": 1e300]))
        }
        #expect(throws: InvalidInput.self) {
            try AppleWebhookGate.validate(try envelope(["adamId": "1\u{0}", "countDelta": 1]))
        }
        #expect(throws: InvalidInput.self) {
            try AppleWebhookGate.validate(try envelope(["adamId": "1", "pricingParam": "GOLD"]))
        }
        try AppleWebhookGate.validate(try envelope(["adamId": "408709785", "countDelta": -3, "pricingParam": "STDQ"]))
    }

    @Test("a database refusal is a 422 without the database's words; only an outage is a 503 (with Retry-After)")
    func databaseRefusalsAreNotOutages() {
        let refusal = ErrorMiddleware.classify(
            StoreError.constraintViolation("tokens_pkey: duplicate key value violates unique constraint")
        )
        #expect(
            refusal.status == .unprocessableContent && refusal.code == .refused
                && !refusal.message.contains("tokens_pkey")
        )
        let outage = ErrorMiddleware.classify(StoreError.unavailable("connection refused"))
        #expect(outage.status == .serviceUnavailable && outage.retryAfter != nil && !outage.message.contains("refused"))
        let token = ErrorMiddleware.classify(AppleAPIError.tokenInvalid(errorNumber: 9622))
        #expect(token.status == .unprocessableContent && token.code == .appleTokenInvalid)
        let down = ErrorMiddleware.classify(AppleAPIError.transport("connection reset"))
        #expect(down.status == .serviceUnavailable && down.retryAfter != nil)
    }

    @Test(
        """
        every answer has X-Request-ID, every error body carries it; 405 for a method a path lacks; codes \
        are in the document
        """
    )
    func requestIDsAndErrorShape() async throws {
        try await withAPI(.sqlite) { api in
            let anonymous = try await api.call("GET", "/v1/tokens")
            let bodyID = (anonymous.object["error"] as? [String: Any])?["requestId"] as? String
            #expect(anonymous.status == 401 && bodyID != nil && bodyID == anonymous.requestID)
            let echoed = try await api.call("GET", "/healthz", headers: ["X-Request-ID": "abc-123"])
            #expect(echoed.requestID == "abc-123")
            let forged = try await api.call("GET", "/healthz", headers: ["X-Request-ID": "a b {evil}"])
            #expect(forged.requestID != nil && forged.requestID != "a b {evil}")
            let wrongMethod = try await api.call("PUT", "/v1/tokens", key: api.readerKey)
            #expect(wrongMethod.status == 405 && wrongMethod.errorCode == "method_not_allowed")
            let nowhere = try await api.call("GET", "/v1/nowhere", key: api.readerKey)
            #expect(nowhere.status == 404 && nowhere.errorCode == "route_not_found")
            for code in APIErrorCode.allCases { #expect(OpenAPIDocument.yaml.contains(code.rawValue)) }
        }
    }

    @Test("Apple refusing the uploaded file is a 422 with its own code; Apple unavailable is a 503 with Retry-After")
    func appleRefusalsByMeaning() async throws {
        try await withAPI(.sqlite) { api in
            let (file, _) = try await api.world.location("Main Campus", assets: [keynoteSim])
            let token = String(decoding: file, as: UTF8.self)
            await api.world.simulator.injectFault(SimulatorFault(kind: .invalidTokenOn200, count: 1))
            let refused = try await api.call("POST", "/v1/tokens", key: api.adminKey, json: ["token": token])
            #expect(
                refused.status == 422 && refused.errorCode == "apple_token_invalid",
                "\(refused.status) \(refused.text)"
            )
            await api.world.simulator.injectFault(
                SimulatorFault(kind: .serviceUnavailable, count: 50, retryAfterSeconds: 1)
            )
            let down = try await api.call("POST", "/v1/tokens", key: api.adminKey, json: ["token": token])
            #expect(down.status == 503 && down.errorCode == "apple_unavailable", "\(down.status) \(down.text)")
            #expect(
                try await api.call("GET", "/v1/tokens", key: api.readerKey).array.isEmpty,
                "nothing stored by refused uploads"
            )
            await api.world.simulator.clearFaults()
        }
    }

    @Test("another tenant's holder and assignments are JSON, never Swift debug text")
    func foreignDataIsJSON() async throws {
        try await withAPI(.sqlite) { api in
            let (file, uid) = try await api.world.location("Lab", assets: [keynoteSim], holder: .appleConfigurator)
            try await api.world.simulator.seedAssignments(adamId: "408709785", serialNumbers: ["AC2DEVICE01"], at: uid)
            let upload = try await api.call(
                "POST",
                "/v1/tokens",
                key: api.adminKey,
                json: ["token": String(decoding: file, as: UTF8.self), "takeOver": true, "dryRun": true]
            )
            let revokes = try #require(upload.object["takeOverRevokes"] as? [[String: Any]], "\(upload.text)")
            #expect(
                revokes.first?["serialNumber"] as? String == "AC2DEVICE01"
                    && revokes.first?["adamId"] as? String == "408709785"
            )
            #expect(!upload.text.contains("serialNumber(\\\"") && !upload.text.contains("serialNumber(\""))
        }
    }
}
