import Foundation
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

@Suite("MDM API: /v1/mdm, the pull API, the MDM webhook")
struct MDMAPITests {
    @Test(
        "connect, show without secrets, bad input named; pull: pages with a cursor, plist, ack moves the state; webhook 401 without a connection"
    )
    func mdmAPI() async throws {
        try await withAPI(.sqlite) { api in
            let tenant = api.world.tenant.id
            var answer = try await api.call("GET", "/v1/mdm", key: api.readerKey)
            #expect(answer.status == 404 && answer.errorMessage.contains("mdm connect"))
            answer = try await api.call(
                "POST",
                "/mdm/webhook/\(tenant)",
                raw: Data("{\"topic\":\"mdm.CheckOut\"}".utf8)
            )
            #expect(
                answer.status == 401 && answer.errorCode == "unauthorized",
                "no connection: nothing vouches for the sender"
            )

            for (body, needle) in [
                (["kind": "jamf", "url": "http://x"], "kind must be one of"),
                (["kind": "nanomdm", "url": "not a url", "apiKey": "k"], "not an http(s) URL"),
                (["kind": "nanomdm", "url": "http://mdm.example"], "API key"),
                (["kind": "pull", "reclaimAfter": "soon"], "not a duration"),
            ] {
                answer = try await api.call("PUT", "/v1/mdm", key: api.ownerKey, json: body)
                #expect(answer.status == 422 && answer.errorMessage.contains(needle), "\(body): \(answer.text)")
            }
            answer = try await api.call("PUT", "/v1/mdm", key: api.readerKey, json: ["kind": "pull"])
            #expect(answer.status == 403)
            answer = try await api.call(
                "PUT",
                "/v1/mdm",
                key: api.ownerKey,
                json: ["kind": "pull", "webhookHmacKey": "hmac-secret-value", "reclaimAfter": "0"]
            )
            #expect(
                answer.status == 200 && answer.object["kind"] as? String == "pull"
                    && answer.object["reclaimAfterSeconds"] as? Int == 0
            )
            #expect(!answer.text.contains("hmac-secret-value") && answer.object["hasWebhookHMACKey"] as? Bool == true)

            // Three commands for an enrolled device, pulled two at a time.
            let serial = try SerialNumber("C02XK1JHJG5J")
            let now = api.world.clock.now()
            let commands = (0..<3).map {
                DeviceCommand(
                    serialNumber: serial.value,
                    kind: .installApplication,
                    adamID: "40870978\($0)",
                    assignmentID: AssignmentID(),
                    createdAt: now.addingTimeInterval(Double($0))
                )
            }
            try await api.world.store.inTenant(tenant) { tx in
                try await tx.saveEnrollment(
                    serial,
                    MDMEnrollment(state: .enrolled, enrollmentID: "UDID-1", lastSeenAt: now)
                )
                try await tx.enqueueDeviceCommands(commands)
            }
            answer = try await api.call("GET", "/v1/device-commands?limit=2", key: api.readerKey)
            #expect(answer.status == 200)
            let page = answer.object["commands"] as? [[String: Any]] ?? []
            #expect(page.map { $0["id"] as? String } == commands.prefix(2).map { $0.id.uuidString.lowercased() })
            let plist = try #require(Data(base64Encoded: page.first?["plist"] as? String ?? ""))
            #expect(String(decoding: plist, as: UTF8.self).contains("<integer>408709780</integer>"))
            let next = try #require(answer.object["next"] as? String)
            answer = try await api.call("GET", "/v1/device-commands?limit=2&after=\(next)", key: api.readerKey)
            #expect((answer.object["commands"] as? [[String: Any]])?.count == 1 && answer.object["next"] == nil)
            for bad in ["limit=0", "limit=5000", "state=launched", "after=nonsense"] {
                // 400 bad_query_parameter, as every other listing answers a bad query parameter.
                let refused = try await api.call("GET", "/v1/device-commands?\(bad)", key: api.readerKey)
                #expect(refused.status == 400 && refused.errorCode == "bad_query_parameter", "\(bad)")
            }

            let first = commands[0].id.uuidString.lowercased()
            answer = try await api.call(
                "POST",
                "/v1/device-commands/\(first)/ack",
                key: api.readerKey,
                json: ["status": "delivered"]
            )
            #expect(answer.status == 403)
            answer = try await api.call(
                "POST",
                "/v1/device-commands/\(first)/ack",
                key: api.adminKey,
                json: ["status": "exploded"]
            )
            #expect(answer.status == 422 || answer.status == 409)
            answer = try await api.call(
                "POST",
                "/v1/device-commands/\(first)/ack",
                key: api.adminKey,
                json: ["status": "acknowledged"]
            )
            #expect(answer.status == 200 && answer.object["state"] as? String == "acknowledged")
            answer = try await api.call(
                "POST",
                "/v1/device-commands/\(UUID())/ack",
                key: api.adminKey,
                json: ["status": "acknowledged"]
            )
            #expect(answer.status == 404)
            answer = try await api.call(
                "GET",
                "/v1/device-commands?state=queued&serial=c02xk1jhjg5j",
                key: api.readerKey
            )
            let queued = answer.object["commands"] as? [[String: Any]] ?? []
            #expect(
                queued.contains { $0["requestType"] as? String == "InstalledApplicationList" },
                "an acknowledged install is verified next"
            )
            answer = try await api.call("GET", "/v1/device-commands", key: api.strangerKey)
            #expect((answer.object["commands"] as? [[String: Any]])?.isEmpty == true, "another tenant sees none")
            answer = try await api.call("GET", "/v1/devices", key: api.readerKey)
            #expect(
                answer.array.first?["udid"] as? String == "UDID-1"
                    && answer.array.first?["enrollment"] as? String == "enrolled"
            )
        }
    }
}
