import Foundation
import Logging
import Synchronization
import Testing
import VPPAppleSimulator
import VPPDomain
import VPPTestSupport

@testable import VPPUseCases

/// A DDM server that keeps every declaration document it was given (to read their ServerTokens).
final class DocumentPublisher: DeclarationPublisher {
    let documents = Mutex<[Data]>([])

    func publish(_ document: Data, identifier: String, set: String) async -> DeliveryOutcome {
        documents.withLock { $0.append(document) }
        return .delivered
    }

    func setMembership(enrollmentID: String, set: String, member: Bool) async -> DeliveryOutcome { .delivered }

    /// The distinct ServerTokens published, in order.
    var serverTokens: [String] {
        var seen: [String] = []
        for document in documents.withLock({ $0 }) {
            let object = (try? JSONSerialization.jsonObject(with: document)) as? [String: Any]
            if let token = object?["ServerToken"] as? String, seen.last != token { seen.append(token) }
        }
        return seen
    }
}

/// A device's status report acted on with vppsim behind vpp: `managed` verifies the install, uninstalled is drift,
/// `Error.LicenseNotFound` is healed (Apple asked, the licence re-associated, the declaration re-published) once
/// per report however many servers receive it, and at most N times.
@Suite("Declarative status: verified, drift, healing Error.LicenseNotFound (vppsim, both databases)")
struct DeviceStatusHealTests {
    static let key = AssetKey(adamID: "408709785")
    static let identifier = "vpp.app.408709785.STDQ.device"

    struct Joined {
        let serials: [SerialNumber]
        let uid: String
        let publisher: DocumentPublisher
        let deliver: DeliverDeclarationSetChanges
    }

    /// A tenant delivering by declarations; `count` enrolled devices (`UDID-0`…) whose licences Apple confirmed and
    /// whose enrollments joined the app's set.
    func joined(_ world: World, _ count: Int) async throws -> Joined {
        let (serials, uid) = try await world.enrolledFleet(
            count,
            keynoteLicences: 10,
            declarations: true,
            enrollmentID: { index, _ in "UDID-\(index)" }
        )
        _ = try await world.useCases.assignLicences(
            world.admin,
            asset: Self.key,
            to: serials.map(Assignee.device)
        )
        try await world.settleEvents()
        let publisher = DocumentPublisher()
        let deliver = DeliverDeclarationSetChanges(
            store: world.store,
            clock: world.clock,
            logger: Logger(label: "test"),
            publisher: publisher
        )
        #expect(try await deliver(world.tenant.id, owner: "a").joined == count)
        return Joined(serials: serials, uid: uid, publisher: publisher, deliver: deliver)
    }

    static func report(_ state: String, reasons: [String] = []) -> Data {
        let item: [String: Any] = [
            "identifier": "com.apple.Keynote", "declaration-identifier": identifier, "state": state,
            "reasons": reasons.map { ["code": $0] }, "external-version-id": 8_675_309, "version": "14.2",
        ]
        let report: [String: Any] = ["StatusItems": ["app": ["managed": ["list": [item]]]], "Errors": [Any]()]
        return (try? JSONSerialization.data(withJSONObject: report)) ?? Data()
    }

    static let notFound = report("failed", reasons: [StatusReason.licenceNotFound])

    func join(_ world: World, _ serial: SerialNumber) async throws -> DeclarationSetChangeRecord {
        let rows = try await world.store.inTenant(world.tenant.id) { tx in
            try await tx.declarationSetChanges(serial: serial.value, limit: 10)
        }
        return try #require(rows.first { $0.change.kind == .join })
    }

    func held(_ world: World, _ uid: String) async -> Int {
        await world.simulator.snapshot(of: uid)?.assignedByAsset["408709785/STDQ"] ?? 0
    }

    @Test(
        "managed verifies the install (posted twice: the same); managed-but-uninstalled is a drift finding",
        arguments: StoreKind.allCases
    )
    func verifiedAndDrift(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let setup = try await joined(world, 2)
            let record = world.useCases.recordDeviceStatus
            let associates = await world.simulator.requestCount("assets/associate")
            let first = try await record(world.admin, enrollmentID: "UDID-0", report: Self.report("managed"))
            #expect(first.recorded == [Self.key: .verified] && first.healing.isEmpty)
            let again = try await record(world.admin, enrollmentID: "UDID-0", report: Self.report("managed"))
            #expect(again == first)
            let verified = try await join(world, setup.serials[0])
            #expect(verified.installState == .verified && verified.deviceState == "managed")

            let drifted = try await record(
                world.admin,
                enrollmentID: "UDID-1",
                report: Self.report("managed-but-uninstalled")
            )
            #expect(drifted.recorded == [Self.key: .drift])
            #expect(try await join(world, setup.serials[1]).installState == nil)
            let findings = try await world.useCases.reports.drift(world.admin)
            let uninstalled = findings.filter { $0.kind == .uninstalled }
            #expect(uninstalled.map(\.assignee) == [setup.serials[1].value] && uninstalled.first?.adamID == "408709785")
            #expect(await world.simulator.requestCount("assets/associate") == associates, "nothing healed")
        }
    }

    @Test(
        "a licence deleted behind vpp's back: LicenseNotFound → Apple asked → re-associated → re-published once",
        arguments: StoreKind.allCases
    )
    func healsByReassociating(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let setup = try await joined(world, 1)
            let serial = setup.serials[0]
            #expect(await held(world, setup.uid) == 1)
            try await world.simulator.dropAssignments(
                adamId: "408709785",
                serialNumbers: [serial.value],
                at: setup.uid
            )
            #expect(await held(world, setup.uid) == 0)
            let associates = await world.simulator.requestCount("assets/associate")
            let record = world.useCases.recordDeviceStatus
            let outcome = try await record(world.admin, enrollmentID: "UDID-0", report: Self.notFound)
            #expect(outcome.recorded == [Self.key: .licenceNotFound] && outcome.healing == [Self.key: .reassociating])
            try await world.settleEvents()
            #expect(await held(world, setup.uid) == 1, "Apple holds the licence again")
            #expect(await world.simulator.requestCount("assets/associate") == associates + 1)
            let licences = try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.assignments(AssignmentQuery(asset: Self.key))
            }
            #expect(licences.map(\.state) == [.active], "the same licence, active again: \(licences)")
            var row = try await join(world, serial)
            #expect(row.healStep == .republishing && row.healAttempts == 1 && row.installState == .error)

            // The device reports the same again before the new ServerToken is out: no second heal.
            let repeated = try await record(world.admin, enrollmentID: "UDID-0", report: Self.notFound)
            #expect(repeated.healing == [Self.key: .alreadyHealing])
            #expect(await world.simulator.requestCount("assets/associate") == associates + 1)

            // The delivery job re-publishes with a new ServerToken; the device evaluates it and reports managed.
            let tokensBefore = setup.publisher.serverTokens
            #expect(try await setup.deliver(world.tenant.id, owner: "a").republished == 1)
            #expect(try await setup.deliver(world.tenant.id, owner: "a").republished == 0, "once")
            let tokens = setup.publisher.serverTokens
            #expect(tokens.count == tokensBefore.count + 1 && Set(tokens).count == tokens.count)
            row = try await join(world, serial)
            #expect(row.healStep == .republished)
            world.clock.advance(days: 0.001)
            let healed = try await record(world.admin, enrollmentID: "UDID-0", report: Self.report("managed"))
            #expect(healed.recorded == [Self.key: .verified])
            #expect(try await join(world, serial).installState == .verified)
        }
    }

    @Test(
        "two servers receive one LicenseNotFound report at once (and the webhook): Apple is asked to associate once",
        arguments: StoreKind.allCases
    )
    func twoServersHealOnce(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let setup = try await joined(world, 1)
            try await world.simulator.dropAssignments(
                adamId: "408709785",
                serialNumbers: [setup.serials[0].value],
                at: setup.uid
            )
            let associates = await world.simulator.requestCount("assets/associate")
            // Two servers: two use cases with nothing shared but the database.
            let a = world.useCases.recordDeviceStatus
            let b = world.useCases.recordDeviceStatus
            async let first = a(world.admin, enrollmentID: "UDID-0", report: Self.notFound)
            async let second = b(world.admin, enrollmentID: "UDID-0", report: Self.notFound)
            let results = [try await first, try await second].compactMap { $0.healing[Self.key] }
            #expect(results.sorted { $0.rawValue < $1.rawValue } == [.alreadyHealing, .reassociating], "\(results)")
            // The same report through the MDM webhook (a DeclarativeManagement status check-in): no heal either.
            try await world.store.inTenant(world.tenant.id) { tx in
                _ = try await tx.recordMDMEvent(
                    MDMEventRecord(
                        receivedAt: world.clock.now(),
                        topic: "mdm.DeclarativeManagement",
                        dedupeKey: "status-1",
                        body: try Self.checkIn(enrollmentID: "UDID-0", report: Self.notFound)
                    )
                )
            }
            #expect(try await world.useCases.processMDMEvents(world.tenant.id) == 1)
            try await world.settleEvents()
            #expect(await world.simulator.requestCount("assets/associate") == associates + 1)
            #expect(await held(world, setup.uid) == 1)
            let row = try await join(world, setup.serials[0])
            #expect(row.healAttempts == 1 && row.deviceReasons.map(\.code) == [StatusReason.licenceNotFound])
        }
    }

    @Test(
        "the webhook: a DeclarativeManagement status check-in records the report; other endpoints are ignored",
        arguments: StoreKind.allCases
    )
    func webhookCheckIn(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let setup = try await joined(world, 1)
            let bodies = [
                try Self.checkIn(enrollmentID: "UDID-0", report: Self.report("managed")),
                try Self.checkIn(enrollmentID: "UDID-0", report: Data("{}".utf8), endpoint: "tokens"),
                try Self.checkIn(enrollmentID: "UDID-0", report: Data("not json".utf8)),
            ]
            try await world.store.inTenant(world.tenant.id) { tx in
                for (i, body) in bodies.enumerated() {
                    _ = try await tx.recordMDMEvent(
                        MDMEventRecord(
                            receivedAt: world.clock.now().addingTimeInterval(Double(i)),
                            topic: "mdm.DeclarativeManagement",
                            dedupeKey: "e\(i)",
                            body: body
                        )
                    )
                }
            }
            #expect(try await world.useCases.processMDMEvents(world.tenant.id) == 1)
            #expect(try await join(world, setup.serials[0]).installState == .verified)
            let events = try await world.store.inTenant(world.tenant.id) { tx in try await tx.mdmEvents(limit: 10) }
            let details = events.sorted { $0.receivedAt < $1.receivedAt }.map(\.detail)
            #expect(details[0].contains("1 app(s) recorded"))
            #expect(events.filter { $0.state == .ignored }.count == 2, "\(details)")
            // Recorded as received (before the edge decoded the webhook), the unreadable report is ignored naming
            // it; the edge now refuses such a body (MDMWebhookEdgeTests).
            #expect(details[1].contains("tokens") && details[2].contains("malformed: the status report"), "\(details)")
        }
    }

    @Test(
        "the device keeps reporting LicenseNotFound: N re-publications, then the install shows failed with the reasons",
        arguments: StoreKind.allCases
    )
    func exhausted(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let setup = try await joined(world, 1)
            let healer = HealLicenceNotFound(
                store: world.store,
                clock: world.clock,
                apple: world.ports.apple,
                tokenCredentials: world.useCases.tokenCredentials,
                intentScheduler: nil,
                intentWorker: world.useCases.carryOutAppleIntents,
                logger: world.ports.logger,
                maxAttempts: 2
            )
            let record = RecordDeviceStatus(store: world.store, clock: world.clock, healer: healer)
            let associates = await world.simulator.requestCount("assets/associate")
            for attempt in 1...2 {
                let outcome = try await record(world.admin, enrollmentID: "UDID-0", report: Self.notFound)
                #expect(outcome.healing == [Self.key: .republishing], "attempt \(attempt): Apple holds the licence")
                #expect(try await setup.deliver(world.tenant.id, owner: "a").republished == 1)
                world.clock.advance(days: 0.001)
            }
            let last = try await record(world.admin, enrollmentID: "UDID-0", report: Self.notFound)
            #expect(last.healing == [Self.key: .gaveUp])
            let row = try await join(world, setup.serials[0])
            #expect(row.installState == .failed && row.healStep == .failed && row.healAttempts == 2)
            let reason = row.healError ?? ""
            #expect(
                reason.contains("Apple: the licence exists") && reason.contains("Error.LicenseNotFound"),
                "\(reason)"
            )
            world.clock.advance(days: 0.001)
            let after = try await record(world.admin, enrollmentID: "UDID-0", report: Self.notFound)
            #expect(after.healing.isEmpty, "given up: no more heals")
            #expect(try await setup.deliver(world.tenant.id, owner: "a").republished == 0)
            #expect(setup.publisher.serverTokens.count == 3, "the first publication and two re-publications")
            #expect(await world.simulator.requestCount("assets/associate") == associates, "never re-associated")
        }
    }

    /// A NanoMDM webhook body for a DeclarativeManagement check-in to `endpoint` carrying `report`.
    static func checkIn(enrollmentID: String, report: Data, endpoint: String = "status") throws -> String {
        let plist = try PropertyListSerialization.data(
            fromPropertyList: [
                "MessageType": "DeclarativeManagement", "Endpoint": endpoint, "UDID": enrollmentID, "Data": report,
            ] as [String: Any],
            format: .xml,
            options: 0
        )
        let body: [String: Any] = [
            "topic": "mdm.DeclarativeManagement", "event_id": UUID().uuidString, "created_at": "2026-12-06T12:00:00Z",
            "checkin_event": ["udid": enrollmentID, "raw_payload": plist.base64EncodedString()],
        ]
        return String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
    }
}
