import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat
import Synchronization
import Testing
import VPPAppleSimulator
import VPPDomain
import VPPKMFDDM
import VPPMDMSimulator
import VPPNanoMDM

/// mdmsim's declarative side over real HTTP: vpp's KMFDDM adapter publishes to it, its devices ask a real vppsim
/// for their licences and post status reports to a small receiver standing in for vpp.
@Suite("mdmsim: KMFDDM API and devices that evaluate declarations")
struct MDMSimDeclarativeTests {
    static let logger: Logger = {
        var l = Logger(label: "test")
        l.logLevel = .critical
        return l
    }()
    static let adamID = "408709785"
    static let key = "ddm-secret"

    /// What the receiver got: enrollment id (or "webhook"), the Authorization header, the body.
    final class Receiver: Sendable {
        let received = Mutex<[(String, String?, Data)]>([])
        var all: [(String, String?, Data)] { received.withLock { $0 } }

        /// The app.managed.list items received for `enrollmentID`, oldest first.
        func items(_ enrollmentID: String) -> [[String: Any]] {
            all.filter { $0.0 == enrollmentID }.flatMap { entry -> [[String: Any]] in
                let report = (try? JSONSerialization.jsonObject(with: entry.2)) as? [String: Any]
                let items = report?["StatusItems"] as? [String: Any]
                let list = ((items?["app"] as? [String: Any])?["managed"] as? [String: Any])?["list"]
                return list as? [[String: Any]] ?? []
            }
        }
    }

    struct Stack {
        let apple: AppleSimulator
        let location: String
        let mdm: MDMSimulator
        let mdmURL: String
        let receiver: Receiver
        let receiverURL: String
        let devices: [MDMSimulator.SimDevice]
        let publisher: KMFDDMPublisher
        let declaration: ManagedAppDeclaration
    }

    static func withStack(_ body: (Stack) async throws -> Void) async throws {
        let apple = try await SimulatorServer(simulator: AppleSimulator(logger: logger), logger: logger).start()
        let location = await apple.simulator.createLocation(name: "Campus")
        try await apple.simulator.upsertAsset(SimAsset(adamId: adamID, totalCount: 10), at: location)
        let receiver = Receiver()
        let router = Router()
        router.post("/v1/device-status/{id}") { request, context in
            var request = request
            let data = Data(buffer: try await request.collectBody(upTo: 1 << 20))
            let id = try context.parameters.require("id")
            receiver.received.withLock { $0.append((id, request.headers[.authorization], data)) }
            return Response(status: .ok)
        }
        router.post("/webhook") { request, _ in
            var request = request
            let data = Data(buffer: try await request.collectBody(upTo: 1 << 20))
            receiver.received.withLock { $0.append(("webhook", nil, data)) }
            return Response(status: .ok)
        }
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: {
                continuation.yield($0.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        let receiverTask = Task { try await app.run() }
        var iterator = stream.makeAsyncIterator()
        let receiverURL = "http://127.0.0.1:\(try #require(await iterator.next()))"
        let mdm = MDMSimulator(apiKey: key, vppsimURL: apple.rootURL, logger: logger)
        await mdm.configureDDM(
            vppsimURL: nil,
            statusURL: receiverURL,
            statusAPIKey: "vpp-key",
            statusRoute: nil,
            evaluationDelayMilliseconds: 50
        )
        let (port, task) = try await MDMSimulatorServer(simulator: mdm, logger: logger).start()
        let devices = await mdm.enroll(count: 3, serialPrefix: "DDM", productName: "iPad13,4")
        let mdmURL = "http://127.0.0.1:\(port)"
        let stack = Stack(
            apple: apple.simulator,
            location: location,
            mdm: mdm,
            mdmURL: mdmURL,
            receiver: receiver,
            receiverURL: receiverURL,
            devices: devices,
            publisher: KMFDDMPublisher(url: mdmURL, apiKey: key, client: MDMHTTPClient.shared),
            declaration: try ManagedAppDeclaration(asset: AssetKey(adamID: adamID), assignment: .device)
        )
        defer {
            task.cancel()
            receiverTask.cancel()
        }
        try await body(stack)
        await apple.stop()
    }

    static func eventually(_ seconds: Double = 10, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    static func call(_ method: String, _ url: String, key: String? = Self.key) async throws -> (Int, Data) {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        if let key {
            request.headers.add(
                name: "Authorization",
                value: "Basic " + Data("kmfddm:\(key)".utf8).base64EncodedString()
            )
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return (Int(response.status.code), Data(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    @Test(
        """
        licence at Apple: managed; none: LicenseNotFound, not evaluated again until a new ServerToken; leaving \
        removes the app; 204/304/401 as KMFDDM
        """
    )
    func evaluation() async throws {
        try await Self.withStack { s in
            let (licensed, unlicensed) = (s.devices[0], s.devices[1])
            try await s.apple.seedAssignments(
                adamId: Self.adamID,
                serialNumbers: [licensed.serialNumber],
                at: s.location
            )
            let set = s.declaration.identifier
            #expect(
                await s.publisher.publish(try s.declaration.document(publication: 0), identifier: set, set: set)
                    == .delivered
            )
            #expect(
                await s.publisher.publish(try s.declaration.document(publication: 0), identifier: set, set: set)
                    == .delivered
            )
            #expect(await s.mdm.ddmStats.declarationsUnchanged == 1, "the same declaration again is a 304")
            for device in [licensed, unlicensed] {
                #expect(
                    await s.publisher.setMembership(enrollmentID: device.udid, set: set, member: true) == .delivered
                )
            }
            #expect(
                try await Self.eventually {
                    !s.receiver.items(licensed.udid).isEmpty && !s.receiver.items(unlicensed.udid).isEmpty
                },
                "both devices reported"
            )
            let good = try #require(s.receiver.items(licensed.udid).last)
            #expect(good["state"] as? String == "managed" && good["declaration-identifier"] as? String == set)
            #expect(good["identifier"] as? String == "com.example.app\(Self.adamID)")
            let bad = try #require(s.receiver.items(unlicensed.udid).last)
            #expect(bad["state"] as? String == "failed")
            #expect((bad["reasons"] as? [[String: Any]])?.first?["code"] as? String == "Error.LicenseNotFound")
            #expect(s.receiver.all.allSatisfy { $0.1 == "Bearer vpp-key" }, "reports carry vpp's API key")
            // vpp's parser reads the report mdmsim sends.
            let parsed = try DeclarativeStatusReport.managedApps(try #require(s.receiver.all.first?.2))
            #expect(parsed.first?.declarationIdentifier == set)

            // KMFDDM's answers: a repeat is 304, no key is 401, the enrollment's sets are listed.
            let enrollmentSets = "\(s.mdmURL)/v1/enrollment-sets/\(unlicensed.udid)"
            #expect(try await Self.call("PUT", enrollmentSets + "?set=\(set)").0 == 304)
            #expect(try await Self.call("PUT", enrollmentSets + "?set=\(set)", key: nil).0 == 401)
            #expect(try await Self.call("PUT", enrollmentSets + "?set=\(set)", key: "wrong").0 == 401)
            #expect(try await Self.call("PUT", enrollmentSets).0 == 500, "no set named")
            let listed = try await Self.call("GET", enrollmentSets)
            #expect(listed.0 == 200 && (try? JSONSerialization.jsonObject(with: listed.1)) as? [String] == [set])
            #expect(try await Self.call("GET", "\(s.mdmURL)/v1/declarations/\(set)").0 == 200)
            #expect(try await Self.call("GET", "\(s.mdmURL)/v1/declarations/nope").0 == 404)
            let malformed = try await Self.call("PUT", "\(s.mdmURL)/v1/declarations")
            #expect(malformed.0 == 400 && String(decoding: malformed.1, as: UTF8.self).contains("error"))

            // The licence appears later: the device does not evaluate the same ServerToken again by itself...
            try await s.apple.seedAssignments(
                adamId: Self.adamID,
                serialNumbers: [unlicensed.serialNumber],
                at: s.location
            )
            #expect(
                await s.publisher.publish(try s.declaration.document(publication: 0), identifier: set, set: set)
                    == .delivered
            )
            try await Task.sleep(for: .milliseconds(500))
            #expect(s.receiver.items(unlicensed.udid).count == 1, "no retry without a change")
            // ...a re-publish with a new ServerToken makes it evaluate again: managed.
            #expect(
                await s.publisher.publish(try s.declaration.document(publication: 1), identifier: set, set: set)
                    == .delivered
            )
            #expect(
                try await Self.eventually { s.receiver.items(unlicensed.udid).last?["state"] as? String == "managed" }
            )
            // Leaving the set removes the app: the item is reported `_removed` and the app is gone.
            #expect(await s.publisher.setMembership(enrollmentID: licensed.udid, set: set, member: false) == .delivered)
            #expect(try await Self.eventually { s.receiver.items(licensed.udid).last?["_removed"] as? Bool == true })
            let device = await s.mdm.allDevices().first { $0.udid == licensed.udid }
            #expect(device?.installed.isEmpty == true)
            let changes = await s.mdm.recordedSetChanges()
            #expect(changes.map(\.kind) == [.join, .join, .join, .leave])
            #expect(changes.map(\.changed) == [true, true, false, true])
            #expect(changes.first?.serialNumber == licensed.serialNumber)
            #expect(await s.mdm.ddmStats.licenceNotFound == 1)
        }
    }

    @Test(
        """
        faults: status lost, status late, managed-but-uninstalled; status through the webhook as a \
        DeclarativeManagement check-in
        """
    )
    func faults() async throws {
        try await Self.withStack { s in
            try await s.apple.seedAssignments(
                adamId: Self.adamID,
                serialNumbers: s.devices.map(\.serialNumber),
                at: s.location
            )
            let set = s.declaration.identifier
            #expect(
                await s.publisher.publish(try s.declaration.document(publication: 0), identifier: set, set: set)
                    == .delivered
            )
            let (lost, late, uninstalled) = (s.devices[0], s.devices[1], s.devices[2])
            await s.mdm.setDDMFault(.lost, delayMilliseconds: 0, serials: [lost.serialNumber])
            #expect(await s.publisher.setMembership(enrollmentID: lost.udid, set: set, member: true) == .delivered)
            #expect(try await Self.eventually { await s.mdm.ddmStats.reportsLost == 1 })
            #expect(s.receiver.items(lost.udid).isEmpty, "the lost report never arrives")

            await s.mdm.setDDMFault(.late, delayMilliseconds: 1500, serials: [late.serialNumber])
            let joined = ContinuousClock.now
            #expect(await s.publisher.setMembership(enrollmentID: late.udid, set: set, member: true) == .delivered)
            #expect(try await Self.eventually { !s.receiver.items(late.udid).isEmpty })
            #expect(ContinuousClock.now - joined >= .milliseconds(1500), "the late report waited")

            await s.mdm.setDDMFault(.uninstalled, delayMilliseconds: 0, serials: [uninstalled.serialNumber])
            await s.mdm.configureDDM(
                vppsimURL: nil,
                statusURL: nil,
                statusAPIKey: nil,
                statusRoute: .webhook,
                evaluationDelayMilliseconds: nil
            )
            await s.mdm.configure(webhookURL: s.receiverURL + "/webhook", hmacKey: nil, ackDelayMilliseconds: nil)
            #expect(
                await s.publisher.setMembership(enrollmentID: uninstalled.udid, set: set, member: true) == .delivered
            )
            #expect(
                try await Self.eventually {
                    s.receiver.all.contains {
                        $0.0 == "webhook" && String(decoding: $0.2, as: UTF8.self).contains("DeclarativeManagement")
                    }
                }
            )
            let event = try #require(
                s.receiver.all.last {
                    $0.0 == "webhook" && String(decoding: $0.2, as: UTF8.self).contains("DeclarativeManagement")
                }
            )
            let object = try #require(try JSONSerialization.jsonObject(with: event.2) as? [String: Any])
            #expect(object["topic"] as? String == "mdm.DeclarativeManagement")
            let raw = try #require((object["checkin_event"] as? [String: Any])?["raw_payload"] as? String)
            let rawData = try #require(Data(base64Encoded: raw))
            let plist = try #require(
                try PropertyListSerialization.propertyList(from: rawData, format: nil) as? [String: Any]
            )
            #expect(
                plist["MessageType"] as? String == "DeclarativeManagement" && plist["Endpoint"] as? String == "status"
            )
            let apps = try DeclarativeStatusReport.managedApps(try #require(plist["Data"] as? Data))
            #expect(apps.first?.state == .managedButUninstalled && apps.first?.disposition == .drift)
        }
    }
}

/// vpp's reader of KMFDDM's status API (`GET /v1/status-report/{id}?index=N`) over real HTTP against mdmsim's
/// KMFDDM, whose devices keep their reports there only (`statusRoute: kmfddm`).
@Suite("KMFDDM status reports read back over real HTTP (mdmsim)")
struct KMFDDMStatusReaderTests {
    @Test(
        "newest first back to the last one read; 404 is none; index past the oldest ends the walk; a wrong key fails"
    )
    func readsKeptReports() async throws {
        try await MDMSimDeclarativeTests.withStack { s in
            await s.mdm.configureDDM(
                vppsimURL: nil,
                statusURL: nil,
                statusAPIKey: nil,
                statusRoute: .kmfddm,
                evaluationDelayMilliseconds: nil
            )
            let device = s.devices[0]
            try await s.apple.seedAssignments(
                adamId: MDMSimDeclarativeTests.adamID,
                serialNumbers: [device.serialNumber],
                at: s.location
            )
            let set = s.declaration.identifier
            let reader = KMFDDMStatusReader(url: s.mdmURL, apiKey: MDMSimDeclarativeTests.key, client: .shared)
            #expect(await reader.reports(enrollmentID: device.udid, after: nil, notBefore: nil, limit: 5) == .none)
            #expect(
                await s.publisher.publish(try s.declaration.document(publication: 0), identifier: set, set: set)
                    == .delivered
            )
            #expect(await s.publisher.setMembership(enrollmentID: device.udid, set: set, member: true) == .delivered)
            #expect(try await MDMSimDeclarativeTests.eventually { await s.mdm.ddmStats.reportsKept == 1 })
            #expect(s.receiver.all.isEmpty, "nothing was posted to vpp")

            guard
                case .reports(let first) = await reader.reports(
                    enrollmentID: device.udid,
                    after: nil,
                    notBefore: nil,
                    limit: 5
                )
            else {
                Issue.record("no report read")
                return
            }
            #expect(first.count == 1)
            let managed = try DeclarativeStatusReport.managedApps(try #require(first.first?.report))
            #expect(managed.first?.declarationIdentifier == set && managed.first?.rawState == "managed")
            let received = try #require(first.first?.receivedAt)
            #expect(abs(received.timeIntervalSinceNow) < 5, "Last-Modified read: \(received)")
            let seen = try #require(first.first?.fingerprint)
            #expect(
                await reader.reports(enrollmentID: device.udid, after: seen, notBefore: nil, limit: 5) == .reports([]),
                "the same report read again is nothing new"
            )
            // The device leaves the set: a second report (the app `_removed`); reading from the first gives it
            // alone, reading from nothing gives both, newest first; `notBefore` after them gives none.
            #expect(await s.publisher.setMembership(enrollmentID: device.udid, set: set, member: false) == .delivered)
            #expect(try await MDMSimDeclarativeTests.eventually { await s.mdm.ddmStats.reportsKept == 2 })
            guard
                case .reports(let newer) = await reader.reports(
                    enrollmentID: device.udid,
                    after: seen,
                    notBefore: nil,
                    limit: 5
                ),
                case .reports(let both) = await reader.reports(
                    enrollmentID: device.udid,
                    after: nil,
                    notBefore: nil,
                    limit: 5
                )
            else {
                Issue.record("no reports read")
                return
            }
            #expect(newer.count == 1 && newer.first?.fingerprint != seen)
            #expect(try DeclarativeStatusReport.managedApps(try #require(newer.first?.report)).first?.removed == true)
            #expect(both.map(\.fingerprint) == [try #require(newer.first?.fingerprint), seen])
            #expect(
                await reader.reports(
                    enrollmentID: device.udid,
                    after: nil,
                    notBefore: Date().addingTimeInterval(60),
                    limit: 5
                ) == .reports([])
            )
            // KMFDDM's own answers: no index is 400, an index past the oldest 404; a wrong key is a failed read.
            let path = "\(s.mdmURL)/v1/status-report/\(device.udid)"
            #expect(try await MDMSimDeclarativeTests.call("GET", path).0 == 400)
            #expect(try await MDMSimDeclarativeTests.call("GET", path + "?index=2").0 == 404)
            let wrong = KMFDDMStatusReader(url: s.mdmURL, apiKey: "wrong", client: .shared)
            guard
                case .failed(let reason) = await wrong.reports(
                    enrollmentID: device.udid,
                    after: nil,
                    notBefore: nil,
                    limit: 5
                )
            else {
                Issue.record("a wrong key must fail the read")
                return
            }
            #expect(reason.contains("401") && !reason.contains("wrong"), "\(reason)")
        }
    }
}
