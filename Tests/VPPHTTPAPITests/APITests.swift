import Foundation
import Testing
import VPPAppleSimulator
import VPPDomain
import VPPHTTPAPI
import VPPTestSupport
import VPPUseCases

@Suite("REST API over a real port")
struct APITests {
    @Test(
        "a token's life through the API: upload, list, show, sync, assign, licences, reports",
        arguments: [StoreKind.postgres, .sqlite]
    )
    func walk(kind: StoreKind) async throws {
        try await withAPI(kind) { api in
            let (file, _) = try await api.world.location("Main Campus", assets: [keynoteSim])
            let upload = try await api.call(
                "POST",
                "/v1/tokens",
                key: api.adminKey,
                json: ["token": String(decoding: file, as: UTF8.self), "emails": ["it@acme.example"]]
            )
            #expect(upload.status == 201)
            try OpenAPIShapes.check(upload.object, against: "UploadResult")
            let token = try #require(upload.object["token"] as? [String: Any])
            let id = try #require(token["id"] as? String)
            #expect(
                !String(decoding: upload.body, as: UTF8.self).contains(
                    String(decoding: file, as: UTF8.self).prefix(20)
                ),
                "the secret is never returned"
            )

            let list = try await api.call("GET", "/v1/tokens", key: api.readerKey)
            #expect(list.status == 200 && list.array.count == 1)
            for item in list.array { try OpenAPIShapes.check(item, against: "Token") }
            #expect(try await api.call("GET", "/v1/tokens/\(id)", key: api.readerKey).status == 200)
            let sync = try await api.call("POST", "/v1/tokens/\(id)/sync", key: api.adminKey)
            #expect(sync.status == 200 && sync.object["assets"] as? Int == 1 && sync.object["started"] as? Bool == true)

            let apps = try await api.call("GET", "/v1/apps", key: api.readerKey)
            for app in apps.array { try OpenAPIShapes.check(app, against: "App") }
            let devices = try await api.call(
                "POST",
                "/v1/devices",
                key: api.adminKey,
                json: ["devices": [["serialNumber": "C02XK1JHJG5J"], ["serialNumber": "C02XK1JHJG5K"]]]
            )
            #expect(devices.status == 201)
            for device in devices.array { try OpenAPIShapes.check(device, against: "Device") }
            let assign = try await api.call(
                "POST",
                "/v1/apps/408709785/licenses",
                key: api.adminKey,
                json: ["serialNumbers": ["C02XK1JHJG5J", "C02XK1JHJG5K"]]
            )
            #expect(assign.status == 202)
            try OpenAPIShapes.check(assign.object, against: "LicenceOperation")
            let licences = try await api.call("GET", "/v1/licenses", key: api.readerKey)
            #expect(licences.array.count == 2)
            for licence in licences.array { try OpenAPIShapes.check(licence, against: "Licence") }
            let tooMany = try await api.call(
                "POST",
                "/v1/apps/408709785/licenses",
                key: api.adminKey,
                json: ["serialNumbers": ["C02XK1JHJG5J"]]
            )
            #expect(tooMany.status == 422 || tooMany.status == 409)
            let report = try await api.call("GET", "/v1/reports/licenses", key: api.readerKey)
            for row in report.array { try OpenAPIShapes.check(row, against: "LicenceReportRow") }
            let csv = try await api.call("GET", "/v1/reports/licenses?format=csv", key: api.readerKey)
            #expect(
                csv.contentType?.hasPrefix("text/csv") == true
                    && String(decoding: csv.body, as: UTF8.self).hasPrefix("adamId,")
            )
            let drift = try await api.call("GET", "/v1/reports/drift", key: api.readerKey)
            #expect(drift.status == 200)
            let plan = try await api.call("DELETE", "/v1/tokens/\(id)?dryRun=true", key: api.adminKey)
            #expect(plan.status == 200 && plan.object["applied"] as? Bool == false)
            try OpenAPIShapes.check(plan.object, against: "RemovalPlan")
            #expect(try await api.call("GET", "/v1/users", key: api.readerKey).status == 200)
            #expect(try await api.call("GET", "/v1/devices", key: api.readerKey).status == 200)
        }
    }

    @Test(
        "401 without a key, 403 for a read-only key, 404 for another tenant's token exactly as for one that never existed"
    )
    func authAndIsolation() async throws {
        try await withAPI(.postgres) { api in
            let (file, _) = try await api.world.location("Main Campus", assets: [keynoteSim])
            let upload = try await api.call(
                "POST",
                "/v1/tokens",
                key: api.adminKey,
                json: ["token": String(decoding: file, as: UTF8.self)]
            )
            let id = try #require((upload.object["token"] as? [String: Any])?["id"] as? String)
            let anonymous = try await api.call("GET", "/v1/tokens")
            #expect(anonymous.status == 401 && anonymous.errorCode == "unauthorized")
            #expect(
                try await api.call("GET", "/v1/tokens", key: "vpp_" + String(repeating: "0", count: 64)).status == 401
            )
            let forbidden = try await api.call("POST", "/v1/tokens/\(id)/sync", key: api.readerKey)
            #expect(
                forbidden.status == 403 && forbidden.errorCode == "forbidden",
                "a manual sync spends Apple's budget: write role only"
            )
            let readOnlyUpload = try await api.call(
                "POST",
                "/v1/tokens",
                key: api.readerKey,
                json: ["token": String(decoding: file, as: UTF8.self)]
            )
            #expect(readOnlyUpload.status == 403 && readOnlyUpload.errorCode == "forbidden")
            let foreign = try await api.call("GET", "/v1/tokens/\(id)", key: api.strangerKey)
            let missing = try await api.call("GET", "/v1/tokens/\(UUID().uuidString)", key: api.strangerKey)
            #expect(foreign.status == 404 && missing.status == 404)
            #expect(foreign.errorCode == missing.errorCode)
            #expect(try await api.call("GET", "/v1/tokens", key: api.strangerKey).array.isEmpty)
            let foreignDelete = try await api.call("DELETE", "/v1/tokens/\(id)", key: api.strangerKey)
            #expect(foreignDelete.status == 404)
            #expect(try await api.call("GET", "/v1/tokens/\(id)", key: api.readerKey).status == 200, "untouched")
        }
    }

    @Test("bad input: oversized body 413, bad JSON 400, bad token file 422, unknown app 404 — all as JSON errors")
    func badInput() async throws {
        try await withAPI(.sqlite) { api in
            let huge = try await api.call(
                "POST",
                "/v1/tokens",
                key: api.adminKey,
                raw: Data(repeating: UInt8(ascii: "a"), count: 300 * 1024)
            )
            #expect(huge.status == 413 && huge.errorCode == "body_too_large")
            let garbage = try await api.call("POST", "/v1/tokens", key: api.adminKey, raw: Data("{not json".utf8))
            #expect(garbage.status == 400 && garbage.errorCode == "bad_json")
            let missingField = try await api.call("POST", "/v1/tokens", key: api.adminKey, json: ["emails": []])
            #expect(
                missingField.status == 400
                    && (missingField.object["error"] as? [String: Any])?["message"].map { "\($0)" }?.contains("token")
                        == true
            )
            let badFile = try await api.call("POST", "/v1/tokens", key: api.adminKey, json: ["token": "not a token!"])
            #expect(badFile.status == 422 && badFile.errorCode == "token_file_not_base64")
            let unknownApp = try await api.call(
                "POST",
                "/v1/apps/999/licenses",
                key: api.adminKey,
                json: ["serialNumbers": ["C02XK1JHJG5J"]]
            )
            #expect(unknownApp.status == 404)
            let badSerial = try await api.call(
                "POST",
                "/v1/devices",
                key: api.adminKey,
                json: ["devices": [["serialNumber": "x"]]]
            )
            #expect(badSerial.status == 422 && badSerial.errorCode == "invalid_serial_number")
            let webhook = try await api.call(
                "POST",
                "/apple/notifications/\(UUID().uuidString)",
                raw: Data("{}".utf8),
                headers: ["Authorization": "Bearer nope"]
            )
            #expect(webhook.status == 401)
        }
    }

    @Test("take-over and renew through the API: preview, explicit confirmation, wrong-location refusal naming both")
    func takeOverAndRenew() async throws {
        try await withAPI(.postgres) { api in
            let (file, uid) = try await api.world.location("Lab", assets: [keynoteSim], holder: .appleConfigurator)
            try await api.world.simulator.seedAssignments(
                adamId: "408709785",
                serialNumbers: ["AC2DEVICE01", "AC2DEVICE02"],
                at: uid
            )
            let upload = try await api.call(
                "POST",
                "/v1/tokens",
                key: api.adminKey,
                json: ["token": String(decoding: file, as: UTF8.self)]
            )
            #expect(upload.status == 201 && upload.object["status"] as? String == "in_use_elsewhere")
            #expect((upload.object["holder"] as? String)?.contains("Apple Configurator 2") == true)
            let id = try #require((upload.object["token"] as? [String: Any])?["id"] as? String)
            let preview = try await api.call(
                "POST",
                "/v1/tokens/\(id)/take-over",
                key: api.adminKey,
                json: ["dryRun": true]
            )
            #expect(preview.object["applied"] as? Bool == false && preview.object["licencesToRevoke"] as? Int == 2)
            let unconfirmed = try await api.call("POST", "/v1/tokens/\(id)/take-over", key: api.adminKey, json: [:])
            #expect(unconfirmed.status == 422)
            let applied = try await api.call(
                "POST",
                "/v1/tokens/\(id)/take-over",
                key: api.adminKey,
                json: ["confirm": true]
            )
            #expect(applied.object["applied"] as? Bool == true)
            #expect(
                try await api.call("GET", "/v1/tokens/\(id)", key: api.readerKey).object["status"] as? String
                    == "active"
            )
            let (other, _) = try await api.world.location("Annex", assets: [])
            let wrong = try await api.call(
                "POST",
                "/v1/tokens/\(id)/renew",
                key: api.adminKey,
                json: ["token": String(decoding: other, as: UTF8.self)]
            )
            let message = (wrong.object["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(wrong.status == 422 && message.contains("Annex") && message.contains("Lab"))
        }
    }

    @Test("every route is documented in the OpenAPI document, and every documented operation exists")
    func openAPICoversRoutes() throws {
        let documented = Set(OpenAPIShapes.operations())
        #expect(
            documented == Set(APIRouter.routes),
            "missing: \(Set(APIRouter.routes).subtracting(documented)); extra: \(documented.subtracting(APIRouter.routes))"
        )
    }

    @Test("the OpenAPI document is valid OpenAPI 3.1 (openapi-spec-validator)")
    func openAPIValid() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "vpp-openapi-\(UUID().uuidString).yaml"
        )
        try OpenAPIDocument.yaml.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import sys; from openapi_spec_validator import validate; from openapi_spec_validator.readers import read_from_filename; validate(read_from_filename(sys.argv[1])[0]); print('valid')",
            file.path,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0 && text.contains("valid"), "\(text)")
    }
}

/// Reads the served OpenAPI document (JSON, which is YAML too): its operations and schemas.
enum OpenAPIShapes {
    static func operations() -> [String] {
        let paths = OpenAPIDocument.tree["paths"] as? [String: [String: Any]] ?? [:]
        return paths.flatMap { path, methods in methods.keys.map { "\($0.uppercased()) \(path)" } }
    }

    struct ShapeError: Error, CustomStringConvertible { let description: String }

    /// Checks that `object` has every field the named schema requires and no field it does not declare.
    static func check(_ object: [String: Any], against schema: String) throws {
        let schemas = (OpenAPIDocument.tree["components"] as? [String: Any])?["schemas"] as? [String: Any]
        guard let declared = schemas?[schema] as? [String: Any] else {
            throw ShapeError(description: "no schema \(schema)")
        }
        let required = declared["required"] as? [String] ?? []
        let properties = Set((declared["properties"] as? [String: Any] ?? [:]).keys)
        let missing = required.filter { object[$0] == nil }
        let undeclared = Set(object.keys).subtracting(properties)
        guard missing.isEmpty, undeclared.isEmpty else {
            throw ShapeError(description: "\(schema) answer lacks \(missing), has undeclared \(undeclared): \(object)")
        }
    }
}
