import Foundation
import Synchronization
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

/// A delivery adapter that answers what the test says and records what it was given (the real adapters
/// are exercised against mdmsim in the end-to-end tests).
final class ScriptedDelivery: DeviceCommandDelivery, DeviceCommandDeliveryFactory, Sendable {
    let answer: Mutex<DeliveryOutcome>
    let received = Mutex<[OutgoingDeviceCommand]>([])

    init(_ answer: DeliveryOutcome) { self.answer = Mutex(answer) }

    func delivery(for connection: MDMConnection, credentials: MDMCredentials) throws -> any DeviceCommandDelivery {
        self
    }

    func deliver(_ commands: [OutgoingDeviceCommand]) async -> [UUID: DeliveryOutcome] {
        received.withLock { $0 += commands }
        let outcome = answer.withLock { $0 }
        return Dictionary(uniqueKeysWithValues: commands.map { ($0.id, outcome) })
    }
}

@Suite("MDM use cases: webhook in, delivery out, reclaim")
struct MDMUseCaseTests {
    static let hmacKey = "shared-hmac-key"

    static func event(
        _ topic: String,
        udid: String,
        eventID: String = UUID().uuidString,
        payload: [String: Any]? = nil,
        tally: Int? = nil,
        ack: (status: String, uuid: String)? = nil
    ) throws -> [UInt8] {
        let raw = try payload.map {
            try PropertyListSerialization.data(fromPropertyList: $0, format: .xml, options: 0).base64EncodedString()
        }
        var body: [String: Any] = ["topic": topic, "event_id": eventID, "created_at": "2026-11-27T00:00:00Z"]
        if let ack {
            body["acknowledge_event"] = [
                "udid": udid, "status": ack.status, "command_uuid": ack.uuid, "raw_payload": raw ?? "",
            ]
        } else {
            var checkIn: [String: Any] = ["udid": udid, "raw_payload": raw ?? ""]
            if let tally { checkIn["token_update_tally"] = tally }
            body["checkin_event"] = checkIn
        }
        return Array(try JSONSerialization.data(withJSONObject: body))
    }

    static func sign(_ body: [UInt8]) -> String {
        Data(HMACSHA256.mac(key: Array(hmacKey.utf8), message: body)).base64EncodedString()
    }

    /// Connects the tenant and enrolls one device through signed webhook events; returns its serial and UDID.
    static func enrolled(_ world: World, reclaimAfter: TimeInterval = 3600) async throws -> (SerialNumber, String) {
        _ = try await world.useCases.configureMDM.connect(
            .system(world.tenant.id),
            MDMConnectionRequest(
                kind: .nanomdm,
                url: "http://127.0.0.1:9",
                apiKey: "k",
                webhookHMACKey: hmacKey,
                reclaimAfter: reclaimAfter
            )
        )
        let udid = "00008110-000A1234ABCD801E"
        let serial = try SerialNumber("C02XK1JHJG5J")
        let receive = world.useCases.receiveMDMWebhook
        for body in [
            try event(
                "mdm.Authenticate",
                udid: udid,
                payload: [
                    "SerialNumber": serial.value, "UDID": udid, "Model": "MacBookPro18,1",
                    "ProductName": "MacBookPro18,1", "OSVersion": "14.5",
                ]
            ),
            try event("mdm.TokenUpdate", udid: udid, payload: ["Topic": "t"], tally: 1),
        ] {
            try await receive(tenantID: world.tenant.id, signature: sign(body), body: body)
        }
        try await world.useCases.processMDMEvents(world.tenant.id)
        return (serial, udid)
    }

    @Test(
        """
        signed events enroll a device; forged, unsigned, unconnected or malformed ones are refused and record \
        nothing; events vpp cannot act on are recorded and ignored
        """,
        arguments: StoreKind.allCases
    )
    func webhookIn(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let receive = world.useCases.receiveMDMWebhook
            let body = try Self.event("mdm.CheckOut", udid: "X")
            await #expect(throws: MDMError.badSignature, "no connection: nothing vouches for the sender") {
                try await receive(tenantID: world.tenant.id, signature: Self.sign(body), body: body)
            }
            let (serial, udid) = try await Self.enrolled(world)
            let device = try #require(try await world.useCases.manageInventory.devices(world.reader).first)
            #expect(
                device.serialNumber == serial && device.enrollment.state == .enrolled
                    && device.enrollment.enrollmentID == udid
            )
            #expect(device.enrollment.platform == .macOS && device.enrollment.osVersion == "14.5")

            let checkout = try Self.event("mdm.CheckOut", udid: udid, eventID: "out-1", payload: ["UDID": udid])
            var tampered = checkout
            tampered[tampered.count / 2] ^= 1
            for (signature, payload) in [
                (nil, checkout), ("", checkout), (Self.sign(checkout), tampered), (Self.sign(tampered), checkout),
            ] {
                await #expect(throws: MDMError.badSignature) {
                    try await receive(tenantID: world.tenant.id, signature: signature, body: payload)
                }
            }
            #expect(
                try await world.store.inTenant(world.tenant.id) { tx in try await tx.mdmEvents(limit: 100) }.count == 2,
                "refused events are not recorded"
            )

            // Malformed bodies, signed: refused naming the problem, nothing recorded (they were recorded, then
            // ignored, before the edge decoded them).
            let malformed: [([UInt8], String)] = [
                (Array("not json".utf8), "not JSON"),
                (try Self.event("mdm.DeclarativeManagement", udid: udid), "raw_payload is missing"),
                (try Self.event("mdm.Authenticate", udid: udid, payload: nil), "raw_payload is missing"),
                (try Self.event("mdm.TokenUpdate", udid: "X/../admin", tally: 1), "not an enrollment id"),
                (try Self.event("mdm.Connect", udid: udid, ack: ("Maybe", "")), "status must be one of"),
            ]
            for (body, reason) in malformed {
                do {
                    try await receive(tenantID: world.tenant.id, signature: Self.sign(body), body: body)
                    Issue.record("recorded a malformed body: \(reason)")
                } catch MDMError.malformedEvent(let why) {
                    #expect(why.contains(reason), "\(why)")
                }
            }
            #expect(
                try await world.store.inTenant(world.tenant.id) { tx in try await tx.mdmEvents(limit: 100) }.count == 2,
                "malformed events are not recorded"
            )
            // Well-formed events vpp cannot act on: recorded, ignored, never an error.
            let junk: [[UInt8]] = [
                try Self.event("mdm.TokenUpdate", udid: "unknown-udid", tally: 1),
                try Self.event("mdm.Connect", udid: udid, ack: ("Acknowledged", UUID().uuidString)),
                try Self.event("mdm.Connect", udid: udid, ack: ("Idle", "")),
                try Self.event("mdm.UserAuthenticate", udid: udid),
            ]
            for body in junk { try await receive(tenantID: world.tenant.id, signature: Self.sign(body), body: body) }
            #expect(
                try await receive(tenantID: world.tenant.id, signature: Self.sign(checkout), body: checkout) == .pending
            )
            #expect(
                try await receive(tenantID: world.tenant.id, signature: Self.sign(checkout), body: checkout)
                    == .duplicate
            )
            try await world.useCases.processMDMEvents(world.tenant.id)
            let events = try await world.store.inTenant(world.tenant.id) { tx in try await tx.mdmEvents(limit: 100) }
            #expect(
                events.filter { $0.state == .ignored }.count == 3,
                "\(events.map { "\($0.topic) \($0.state) \($0.detail)" })"
            )
            // The repeat was answered as a duplicate and not stored (issue 24: replays take no room).
            #expect(events.filter { $0.state == .duplicate }.isEmpty && events.allSatisfy { $0.state != .pending })
            let after = try #require(try await world.useCases.manageInventory.devices(world.reader).first)
            #expect(after.enrollment.state == .unenrolled && after.enrollment.unenrolledAt != nil)
        }
    }

    @Test(
        """
        delivery: plists to the enrolled UDID; retries visible; licence-only skipped; refusals fail; 410 disables; \
        results move states
        """,
        arguments: StoreKind.allCases
    )
    func deliveryOut(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (serial, udid) = try await Self.enrolled(world)
            let tenant = world.tenant.id
            let install = DeviceCommand(
                serialNumber: serial.value,
                kind: .installApplication,
                adamID: "408709785",
                assignmentID: AssignmentID(),
                createdAt: world.clock.now()
            )
            try await world.store.inTenant(tenant) { tx in try await tx.enqueueDeviceCommands([install]) }

            let down = ScriptedDelivery(.retry("HTTP 503"))
            var outcome = try await deliverCommands(world, down)(
                tenant,
                owner: "a"
            )
            #expect(outcome.retried == 1 && down.received.withLock { $0.map(\.enrollmentID) } == [udid])
            var record = try #require(
                try await world.store.inTenant(tenant) { tx in try await tx.deviceCommandRecord(install.id) }
            )
            #expect(record.state == .queued && record.attempts == 1 && record.lastError == "HTTP 503")
            #expect(record.nextAttemptAt! > world.clock.now(), "backed off")
            outcome = try await deliverCommands(world, down)(tenant, owner: "a")
            #expect(outcome == .init(), "not due yet: nothing sent")

            world.clock.advance(days: 1.0 / 24)
            let up = ScriptedDelivery(.delivered)
            outcome = try await deliverCommands(world, up)(tenant, owner: "b")
            #expect(outcome.delivered == 1)
            let sent = try #require(up.received.withLock { $0.first })
            let plist = try #require(
                try PropertyListSerialization.propertyList(from: sent.plist, options: [], format: nil) as? [String: Any]
            )
            #expect(plist["CommandUUID"] as? String == install.id.uuidString.uppercased())
            let body = plist["Command"] as? [String: Any]
            // 0 is not one of the schema's ManagementFlags values (1, 4, 5): a Mac gets none, and InstallAsManaged.
            #expect(body?["ManagementFlags"] == nil && body?["InstallAsManaged"] as? Bool == true, "\(body ?? [:])")
            record = try #require(
                try await world.store.inTenant(tenant) { tx in try await tx.deviceCommandRecord(install.id) }
            )
            #expect(record.state == .delivered && record.enrollmentID == udid && record.attempts == 2)
            #expect(
                try await deliverCommands(world, up)(tenant, owner: "b")
                    == .init(),
                "never twice"
            )

            // The device answers: acknowledged, then vpp asks for the installed apps; NotNow and Error keep their
            // reason.
            let receive = world.useCases.receiveMDMWebhook
            let ack = try Self.event("mdm.Connect", udid: udid, ack: ("Acknowledged", install.id.uuidString))
            try await receive(tenantID: tenant, signature: Self.sign(ack), body: ack)
            try await world.useCases.processMDMEvents(tenant)
            let list = try await world.store.inTenant(tenant) { tx in
                try await tx.deviceCommandRecords(DeviceCommandQuery())
            }
            #expect(
                list.map(\.state) == [.acknowledged, .queued] && list.last?.command.kind == .installedApplicationList
            )

            // Licence-only apps are skipped; a permanent refusal fails; 410 Gone disables the connection.
            _ = try await world.useCases.configureMDM.connect(
                .system(tenant),
                MDMConnectionRequest(
                    kind: .nanomdm,
                    url: "http://127.0.0.1:9",
                    apiKey: "k",
                    licenceOnlyAdamIDs: ["361309726"]
                )
            )
            let onlyLicence = DeviceCommand(
                serialNumber: serial.value,
                kind: .installApplication,
                adamID: "361309726",
                assignmentID: AssignmentID(),
                createdAt: world.clock.now()
            )
            try await world.store.inTenant(tenant) { tx in try await tx.enqueueDeviceCommands([onlyLicence]) }
            let refusing = ScriptedDelivery(.refused("unknown enrollment"))
            outcome = try await deliverCommands(world, refusing)(
                tenant,
                owner: "c"
            )
            #expect(
                outcome.skipped == 1 && outcome.failed == 1,
                "licence-only skipped; the InstalledApplicationList refused"
            )
            let gone = ScriptedDelivery(.endpointGone("410"))
            try await world.store.inTenant(tenant) { tx in
                try await tx.enqueueDeviceCommands([
                    DeviceCommand(
                        serialNumber: serial.value,
                        kind: .installedApplicationList,
                        adamID: "",
                        createdAt: world.clock.now()
                    )
                ])
            }
            _ = try await deliverCommands(world, gone)(tenant, owner: "d")
            #expect(try await world.useCases.configureMDM.show(world.reader).disabledReason == "410")
            #expect(
                try await deliverCommands(world, up)(tenant, owner: "d")
                    == .init(),
                "a disabled endpoint gets nothing until reconnected"
            )
        }
    }

    @Test(
        "connect: secrets sealed and never shown; bad input refused naming it, nothing changed",
        arguments: [StoreKind.sqlite]
    )
    func connect(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let configure = world.useCases.configureMDM
            let admin = Caller.system(world.tenant.id)
            await #expect(throws: MDMError.badURL("ftp://x")) {
                try await configure.connect(admin, MDMConnectionRequest(kind: .nanomdm, url: "ftp://x", apiKey: "k"))
            }
            await #expect(throws: MDMError.missingAPIKey(.micromdm)) {
                try await configure.connect(admin, MDMConnectionRequest(kind: .micromdm, url: "http://m.example"))
            }
            await #expect(throws: MDMError.notConnected) { try await configure.show(world.reader) }
            await #expect(throws: (any Error).self, "a read-only caller cannot connect") {
                try await configure.connect(world.reader, MDMConnectionRequest(kind: .pull, url: ""))
            }
            let view = try await configure.connect(
                admin,
                MDMConnectionRequest(kind: .webhook, url: "https://mdm.example/hook")
            )
            let secret = try #require(view.signingSecret)
            #expect(secret.hasPrefix("whsec_"))
            let shown = try await configure.show(world.reader)
            #expect(shown.signingSecret == nil && shown.kind == "webhook")
            let stored = try await world.store.inTenant(world.tenant.id) { tx in try await tx.mdmConnection() }
            #expect(
                Data(try #require(stored?.secrets.signingSecret?.ciphertext)).range(of: Data(secret.utf8)) == nil,
                "sealed"
            )
            #expect(try stored.map { try world.ports.secrets.open($0.secrets.signingSecret!) } == secret)
            let again = try await configure.connect(
                admin,
                MDMConnectionRequest(kind: .webhook, url: "https://mdm.example/hook2")
            )
            #expect(again.signingSecret == nil, "reconnecting keeps the receiver's secret")
        }
    }

    @Test(
        """
        reclaim: dry run lists and changes nothing; a device that re-enrolls within the grace period keeps its \
        licences
        """,
        arguments: [StoreKind.sqlite]
    )
    func reclaim(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (serial, udid) = try await Self.enrolled(world, reclaimAfter: 600)
            let receive = world.useCases.receiveMDMWebhook
            let out = try Self.event("mdm.CheckOut", udid: udid)
            try await receive(tenantID: world.tenant.id, signature: Self.sign(out), body: out)
            try await world.useCases.processMDMEvents(world.tenant.id)
            let reclaim = world.useCases.reclaimUnenrolledDevices
            #expect(try await reclaim(.system(world.tenant.id), dryRun: true).isEmpty, "within the grace period")
            world.clock.advance(days: 1)
            let plan = try await reclaim(.system(world.tenant.id), dryRun: true)
            #expect(plan.map(\.serialNumber) == [serial.value])
            #expect(try await reclaim(.system(world.tenant.id), dryRun: true) == plan, "a dry run changes nothing")
            // Back within the grace period (the clock is moved back to model it): kept.
            for body in [
                try Self.event("mdm.Authenticate", udid: udid, payload: ["SerialNumber": serial.value, "UDID": udid]),
                try Self.event("mdm.TokenUpdate", udid: udid, tally: 1),
            ] {
                try await receive(tenantID: world.tenant.id, signature: Self.sign(body), body: body)
            }
            try await world.useCases.processMDMEvents(world.tenant.id)
            #expect(
                try await reclaim(.system(world.tenant.id), dryRun: true).isEmpty,
                "re-enrolled: nothing to reclaim"
            )
            #expect(try await reclaim(.system(world.tenant.id), dryRun: false).isEmpty)
        }
    }

    @Test(
        "RemoveApplication for an app whose bundle id was never synced: fetched from the store's metadata and kept",
        arguments: [StoreKind.sqlite]
    )
    func removalFetchesBundleID(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            _ = try await world.location("Main", assets: [keynoteSim])
            let (serial, _) = try await Self.enrolled(world)
            let keynote = Asset(
                key: AssetKey(adamID: keynoteSim.adamId),
                productType: .app,
                platforms: [.iOS],
                isDeviceAssignable: true,
                isRevocable: true
            )
            let remove = DeviceCommand(
                serialNumber: serial.value,
                kind: .removeApplication,
                adamID: keynoteSim.adamId,
                assignmentID: AssignmentID(),
                createdAt: world.clock.now()
            )
            try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.upsertApps([keynote])
                try await tx.enqueueDeviceCommands([remove])
            }
            let up = ScriptedDelivery(.delivered)
            #expect(
                try await deliverCommands(world, up)(world.tenant.id, owner: "a")
                    .delivered == 1
            )
            let plist = try #require(up.received.withLock { $0.first?.plist })
            let body = try #require(
                try PropertyListSerialization.propertyList(from: plist, options: [], format: nil) as? [String: Any]
            )
            #expect((body["Command"] as? [String: Any])?["Identifier"] as? String == "com.apple.iwork.keynote")
            let app = try await world.store.inTenant(world.tenant.id) { tx in try await tx.app(keynote.key) }
            #expect(app?.metadata?.bundleID == "com.apple.iwork.keynote", "kept for the next removal")
        }
    }
}

/// Delivers device commands through `deliveries` (the designated initialiser: only the ports it uses).
private func deliverCommands(_ world: World, _ deliveries: any DeviceCommandDeliveryFactory) -> DeliverDeviceCommands {
    DeliverDeviceCommands(
        store: world.store,
        clock: world.clock,
        secrets: world.ports.secrets,
        metadata: world.ports.metadata,
        logger: world.ports.logger,
        deliveries: deliveries
    )
}
