import Foundation
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

@testable import VPPHTTPAPI

/// Walks every operation of the API with typed request bodies, and records each body sent and each JSON
/// answer with the schema the contract declares for it (the request body's, or the operation's answer for
/// that status), for `Scripts/fuzz/validate_samples.py`.
struct ContractWalk {
    let api: APIBench
    let samples = SampleLog()

    final class SampleLog: @unchecked Sendable {
        var items: [[String: Any]] = []
    }

    func run() async throws -> [[String: Any]] {
        let (file, _) = try await api.world.location("Main Campus", assets: [keynoteSim])
        let token = String(decoding: file, as: UTF8.self)
        _ = try await call("GET", "/healthz")
        _ = try await call("GET", "/readyz")
        let upload = try await call(
            "POST",
            "/v1/tokens",
            key: api.adminKey,
            body: TokenRoutes.UploadBody(token: token, emails: ["it@acme.example"], takeOver: nil, dryRun: nil)
        )
        let id = try #require((upload.object["token"] as? [String: Any])?["id"] as? String)
        _ = try await call("GET", "/v1/tokens", key: api.readerKey)
        _ = try await call("GET", "/v1/tokens/\(id)", key: api.readerKey)
        _ = try await call("POST", "/v1/tokens/\(id)/sync", key: api.adminKey)
        _ = try await call(
            "POST",
            "/v1/tokens/\(id)/renew",
            key: api.adminKey,
            body: TokenRoutes.RenewBody(token: token)
        )
        _ = try await call("GET", "/v1/apps", key: api.readerKey)
        let serials = ["C02XK1JHJG5J", "C02XK1JHJG5K"]
        _ = try await call(
            "POST",
            "/v1/devices",
            key: api.adminKey,
            body: InventoryRoutes.DevicesBody(
                devices: serials.map { .init(serialNumber: $0, name: "Lab", installedAdamIds: ["408709785"]) }
            )
        )
        _ = try await call(
            "POST",
            "/v1/users",
            key: api.adminKey,
            body: InventoryRoutes.UsersBody(users: [.init(clientUserId: "user-1", email: "ana@acme.example")])
        )
        _ = try await call("GET", "/v1/users", key: api.readerKey)
        // A queued join for the pull API: listed with its document, then reported done.
        try await api.world.store.inTenant(api.world.tenant.id) { tx in
            try await tx.enqueueDeclarationSetChanges([
                DeclarationSetChange(
                    serialNumber: serials[0],
                    asset: AssetKey(adamID: "408709785"),
                    licenceKind: .device,
                    kind: .join,
                    assignmentID: AssignmentID(),
                    createdAt: api.world.clock.now()
                )
            ])
        }
        let pulled = try await call("GET", "/v1/declaration-changes?limit=5", key: api.readerKey)
        let pulledID = try #require((pulled.object["changes"] as? [[String: Any]])?.first?["id"] as? String)
        _ = try await call(
            "POST",
            "/v1/declaration-changes/\(pulledID)/ack",
            key: api.adminKey,
            body: DeclarationRoutes.ChangeReport(status: "done", error: nil)
        )
        let linked = try await call(
            "PUT",
            "/v1/users/user-1/enrollment",
            key: api.adminKey,
            body: InventoryRoutes.UserEnrollmentBody(clientUserId: nil, enrollmentId: "ENR-user-1")
        )
        #expect(linked.status == 200 && linked.object["enrollmentId"] as? String == "ENR-user-1", "\(linked.text)")
        _ = try await call("GET", "/v1/devices?limit=1&includeRetired=false", key: api.readerKey)
        _ = try await call("GET", "/v1/audit?limit=5", key: api.readerKey)
        let assignees = LicenceRoutes.AssigneesBody(serialNumbers: serials, clientUserIds: nil, pricingParam: "STDQ")
        _ = try await call("POST", "/v1/apps/408709785/licenses", key: api.adminKey, body: assignees)
        _ = try await call("GET", "/v1/licenses?limit=1", key: api.readerKey)
        _ = try await call("GET", "/v1/reports/licenses", key: api.readerKey)
        _ = try await call("GET", "/v1/reports/drift", key: api.readerKey)
        let one = LicenceRoutes.AssigneesBody(serialNumbers: [serials[0]], clientUserIds: nil, pricingParam: nil)
        _ = try await call("DELETE", "/v1/apps/408709785/licenses", key: api.adminKey, body: one)
        _ = try await call("DELETE", "/v1/tokens/\(id)?dryRun=true", key: api.adminKey)

        // A token held by Apple Configurator: the take-over preview lists what it revokes.
        let (held, uid) = try await api.world.location("Lab", assets: [keynoteSim], holder: .appleConfigurator)
        try await api.world.simulator.seedAssignments(adamId: "408709785", serialNumbers: ["AC2DEVICE01"], at: uid)
        let heldUpload = try await call(
            "POST",
            "/v1/tokens",
            key: api.adminKey,
            body: TokenRoutes.UploadBody(
                token: String(decoding: held, as: UTF8.self),
                emails: nil,
                takeOver: nil,
                dryRun: nil
            )
        )
        let heldID = try #require((heldUpload.object["token"] as? [String: Any])?["id"] as? String)
        _ = try await call(
            "POST",
            "/v1/tokens/\(heldID)/take-over",
            key: api.adminKey,
            body: TokenRoutes.TakeOverBody(confirm: nil, dryRun: true)
        )

        _ = try await call("GET", "/v1/api-keys", key: api.ownerKey)
        let created = try await call(
            "POST",
            "/v1/api-keys",
            key: api.ownerKey,
            body: APIKeyRoutes.CreateBody(name: "ci", role: "read-only", expiresAt: "2099-01-01T00:00:00Z")
        )
        let keyID = try #require((created.object["apiKey"] as? [String: Any])?["id"] as? String)
        let rotated = try await call("POST", "/v1/api-keys/\(keyID)/rotate", key: api.ownerKey)
        let newID = try #require((rotated.object["apiKey"] as? [String: Any])?["id"] as? String)
        _ = try await call("DELETE", "/v1/api-keys/\(newID)", key: api.ownerKey)

        _ = try await call(
            "PUT",
            "/v1/mdm",
            key: api.ownerKey,
            body: MDMRoutes.ConnectBody(
                kind: "pull",
                url: nil,
                apiKey: nil,
                webhookHmacKey: "walk-hmac-key",
                reclaimAfter: "24h",
                silentDaysUnenrolled: 30,
                licenceOnly: false,
                licenceOnlyAdamIds: ["408709785"]
            )
        )
        _ = try await call("GET", "/v1/mdm", key: api.readerKey)
        let now = api.world.clock.now()
        let queued = DeviceCommand(
            serialNumber: serials[0],
            kind: .installApplication,
            adamID: "408709785",
            assignmentID: AssignmentID(),
            createdAt: now
        )
        try await api.world.store.inTenant(api.world.tenant.id) { tx in
            try await tx.saveEnrollment(
                try SerialNumber(serials[0]),
                MDMEnrollment(state: .enrolled, enrollmentID: "UDID-1", lastSeenAt: now)
            )
            try await tx.enqueueDeviceCommands([queued])
        }
        let page = try await call("GET", "/v1/device-commands?limit=5", key: api.readerKey)
        let command = try #require((page.object["commands"] as? [[String: Any]])?.first?["id"] as? String)
        _ = try await call(
            "POST",
            "/v1/device-commands/\(command)/ack",
            key: api.adminKey,
            body: MDMRoutes.AckBody(status: "delivered", error: nil)
        )
        // Signed: a connection without a key refuses device events (issue 24).
        let event = Data(#"{"topic":"mdm.CheckOut","checkin_event":{"udid":"WALK-UDID"}}"#.utf8)
        let signature = Data(HMACSHA256.mac(key: Array("walk-hmac-key".utf8), message: Array(event)))
        _ = try await call(
            "POST",
            "/mdm/webhook/\(api.world.tenant.id)",
            raw: event,
            headers: ["X-Hmac-Signature": signature.base64EncodedString()]
        )
        // Declarative delivery: the DDM server, a device's status report, one device's apps.
        _ = try await call(
            "PUT",
            "/v1/mdm/declarations",
            key: api.ownerKey,
            body: DeclarationRoutes.ServerBody(kind: "kmfddm", url: "http://127.0.0.1:9", apiKey: "walk-ddm-key")
        )
        _ = try await call("GET", "/v1/mdm/declarations", key: api.readerKey)
        try await api.world.store.inTenant(api.world.tenant.id) { tx in
            try await tx.enqueueDeclarationSetChanges([
                DeclarationSetChange(
                    serialNumber: serials[0],
                    asset: AssetKey(adamID: "361309726"),
                    licenceKind: .device,
                    kind: .join,
                    assignmentID: AssignmentID(),
                    createdAt: now
                )
            ])
        }
        let status = Data(
            #"""
            {"StatusItems": {"app": {"managed": {"list": [{"identifier": "com.apple.Pages",
              "declaration-identifier": "vpp.app.361309726.STDQ.device", "state": "managed-but-uninstalled"}]}}}}
            """#.utf8
        )
        _ = try await call("POST", "/v1/device-status/UDID-1", key: api.adminKey, raw: status)
        _ = try await call("GET", "/v1/devices/\(serials[0])", key: api.readerKey)
        _ = try await call("GET", "/v1/reports/drift", key: api.readerKey)
        // Desired state: groups, a scope (previewed, then stored), its waitlist, an alert level and the forecast.
        typealias Scopes = ScopeRoutes
        _ = try await call(
            "PUT",
            "/v1/groups/lab",
            key: api.adminKey,
            body: Scopes.GroupBody(serialNumbers: serials, clientUserIds: nil, dynamic: nil)
        )
        let extra = Scopes.MembersBody(serialNumbers: ["C02XK1JHJG5L"], clientUserIds: nil)
        _ = try await call("POST", "/v1/groups/lab/members", key: api.adminKey, body: extra)
        _ = try await call("DELETE", "/v1/groups/lab/members", key: api.adminKey, body: extra)
        _ = try await call(
            "PUT",
            "/v1/groups/enrolled-ipads",
            key: api.adminKey,
            body: Scopes.GroupBody(
                serialNumbers: nil,
                clientUserIds: nil,
                dynamic: Scopes.DynamicBody(enrolled: true, platforms: ["iPadOS"], modelPrefix: "iPad")
            )
        )
        _ = try await call("GET", "/v1/groups", key: api.readerKey)
        _ = try await call("GET", "/v1/groups/lab?limit=1", key: api.readerKey)
        let scope = Scopes.ScopeBody(
            adamId: "408709785",
            pricingParam: "STDQ",
            groups: ["lab"],
            serialNumbers: nil,
            clientUserIds: nil,
            priority: 1,
            removalGraceSeconds: 0,
            uninstallOnRemoval: true,
            mode: "install",
            install: "Optional",
            version: nil,
            automaticUpdates: "AlwaysOn"
        )
        let dry = try await call("PUT", "/v1/scopes/keynote-lab?dryRun=true", key: api.adminKey, body: scope)
        #expect(dry.status == 200 && (dry.object["dryRun"] as? Bool) == true)
        let stored = try await call("PUT", "/v1/scopes/keynote-lab", key: api.adminKey, body: scope)
        #expect(stored.status == 202)
        _ = try await call("GET", "/v1/scopes", key: api.readerKey)
        _ = try await call("GET", "/v1/scopes/keynote-lab", key: api.readerKey)
        _ = try await call("GET", "/v1/scopes/keynote-lab/waitlist?limit=10", key: api.readerKey)
        _ = try await call(
            "PUT",
            "/v1/apps/408709785/alerts",
            key: api.adminKey,
            body: Scopes.AlertBody(below: 5, belowPercent: nil, pricingParam: nil)
        )
        _ = try await call("GET", "/v1/apps/408709785/forecast", key: api.readerKey)
        _ = try await call("DELETE", "/v1/scopes/keynote-lab?dryRun=true", key: api.adminKey)
        _ = try await call("DELETE", "/v1/scopes/keynote-lab", key: api.adminKey)
        _ = try await call("DELETE", "/v1/groups/enrolled-ipads", key: api.adminKey)
        // Apple's webhook needs the token's bearer, which the walk cannot know: its answer type is sampled here.
        record(.ref(SystemRoutes.NotificationResult.self), SystemRoutes.NotificationResult(result: "handled"), "sample")
        return samples.items
    }

    /// Sends `body` (recorded against the operation's request schema) and records the JSON answer against the
    /// schema the operation declares for its status.
    func call<Body: Encodable>(
        _ method: String,
        _ path: String,
        key: String? = nil,
        body: Body
    ) async throws -> APIBench.Answer {
        let operation = try #require(Self.operation(method, path), "\(method) \(path) is not in the contract")
        let data = try JSONEncoder().encode(body)
        let schema = try #require(operation.requestBody, "\(operation.route) declares no request body")
        samples.items.append(sample(schema, try JSONSerialization.jsonObject(with: data), "request \(operation.route)"))
        return try await call(method, path, key: key, raw: data)
    }

    /// Sends `raw` (or nothing) and records the JSON answer against the declared schema of its status.
    func call(
        _ method: String,
        _ path: String,
        key: String? = nil,
        raw: Data? = nil,
        headers: [String: String] = [:]
    ) async throws -> APIBench.Answer {
        let operation = try #require(Self.operation(method, path), "\(method) \(path) is not in the contract")
        let answer = try await api.call(method, path, key: key, raw: raw, headers: headers)
        let declared = operation.answers.first { $0.status == answer.status }
        #expect(declared != nil, "\(operation.route) answered \(answer.status), not declared: \(answer.text)")
        if let schema = declared?.bodies.first(where: { $0.mediaType == "application/json" })?.schema,
            let value = answer.json
        {
            samples.items.append(sample(schema, value, "answer \(answer.status) \(operation.route)"))
        }
        return answer
    }

    func record(_ schema: JSONSchema, _ value: some Encodable, _ source: String) {
        let data = (try? JSONEncoder().encode(value)) ?? Data()
        samples.items.append(sample(schema, (try? JSONSerialization.jsonObject(with: data)) ?? [:], source))
    }

    func sample(_ schema: JSONSchema, _ value: Any, _ source: String) -> [String: Any] {
        var ignored: [String: Any] = [:]
        return ["schema": schema.rendered(components: &ignored), "value": value, "source": source]
    }

    /// The contract's operation for a concrete method and path (path parameters match any segment).
    static func operation(_ method: String, _ path: String) -> APIOperation? {
        let parts = path.split(separator: "?")[0].split(separator: "/", omittingEmptySubsequences: false)
        return APIContract.operations.first { operation in
            let template = operation.path.split(separator: "/", omittingEmptySubsequences: false)
            return operation.method.rawValue == method && template.count == parts.count
                && zip(template, parts).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }
    }
}
