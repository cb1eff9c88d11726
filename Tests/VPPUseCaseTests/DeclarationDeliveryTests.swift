import Foundation
import Logging
import Synchronization
import Testing
import VPPAppleSimulator
import VPPDomain
import VPPTestSupport

@testable import VPPUseCases

/// Declarative delivery through the ledger with vppsim: a licence Apple confirms puts the device's enrollment in the
/// app's declaration set (once, never an InstallApplication); a revoked one takes it out (never a RemoveApplication).
@Suite("Declarative delivery: the ledger joins and leaves declaration sets (vppsim, both databases)")
struct DeclarationDeliveryTests {
    static let key = AssetKey(adamID: "408709785")

    func commands(_ world: World) async throws -> [DeviceCommand] {
        try await world.store.inTenant(world.tenant.id) { tx in try await tx.deviceCommands() }
    }

    func changes(_ world: World) async throws -> [DeclarationSetChangeRecord] {
        try await world.store.inTenant(world.tenant.id) { tx in
            try await tx.declarationSetChanges(serial: nil, limit: 1000)
        }
    }

    func active(_ world: World) async throws -> [Assignment] {
        try await world.store.inTenant(world.tenant.id) { tx in
            try await tx.assignments(AssignmentQuery(asset: Self.key, states: [.active]))
        }
    }

    @Test(
        "a declaration scope: joins only for active licences, once however often confirmed; leaving revokes and leaves",
        arguments: StoreKind.allCases
    )
    func scopeInDeclarationMode(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (file, uid) = try await world.location(
                "A",
                assets: [SimAsset(adamId: "408709785", totalCount: 6, name: "Keynote")]
            )
            _ = try await world.useCases.uploadToken(world.admin, file: file)
            let serials = try await world.addDevices(4)
            let manage = world.reconcilingInline
            let scope = try AppScope(
                name: ScopeName("keynote"),
                asset: Self.key,
                serialNumbers: serials,
                removalGraceSeconds: 0,
                mode: .declaration
            )
            _ = try await manage.putScope(world.admin, scope, dryRun: false)
            // Whatever Apple has confirmed so far, and no more, is in the set.
            let early = try await changes(world).count
            #expect(early == (try await active(world)).count)
            try await world.settleEvents()
            #expect(await world.simulator.snapshot(of: uid)?.assignedByAsset["408709785/STDQ"] == 4)

            let held = try await active(world)
            #expect(held.count == 4)
            var joins = try await changes(world).filter { $0.change.kind == .join }
            #expect(Set(joins.map(\.change.assignmentID)) == Set(held.map(\.id)), "one join per active licence")
            #expect(Set(joins.map(\.change.serialNumber)) == Set(serials.map(\.value)))
            #expect(joins.allSatisfy { $0.change.licenceKind == .device && $0.change.asset == Self.key })
            #expect(
                try await commands(world).filter { $0.kind == .installApplication }.isEmpty,
                "no InstallApplication"
            )

            // Another server learns of the same confirmations (a sync, a late notification): nothing more is queued.
            try await world.store.inTenant(world.tenant.id) { tx in
                try await LicenceLedger.confirmed(tx, held, now: world.clock.now())
            }
            joins = try await changes(world).filter { $0.change.kind == .join }
            #expect(joins.count == 4)

            // Two leave the scope (grace 0): their licences are revoked and their enrollments leave the set.
            let leaving = Array(serials.prefix(2))
            _ = try await manage.putScope(
                world.admin,
                try AppScope(
                    name: scope.name,
                    asset: Self.key,
                    serialNumbers: Array(serials.dropFirst(2)),
                    removalGraceSeconds: 0,
                    mode: .declaration
                ),
                dryRun: false
            )
            try await world.settleEvents()
            #expect(await world.simulator.snapshot(of: uid)?.assignedByAsset["408709785/STDQ"] == 2)
            let leaves = try await changes(world).filter { $0.change.kind == .leave }
            #expect(Set(leaves.map(\.change.serialNumber)) == Set(leaving.map(\.value)))
            let all = try await commands(world)
            #expect(all.filter { $0.kind == .installApplication || $0.kind == .removeApplication }.isEmpty)
        }
    }

    @Test(
        "the tenant's default: declarations for imperative and install-mode licences; licence-only stays licence-only",
        arguments: StoreKind.allCases
    )
    func tenantDefault(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (file, _) = try await world.location(
                "A",
                assets: [SimAsset(adamId: "408709785", totalCount: 6, name: "Keynote")]
            )
            _ = try await world.useCases.uploadToken(world.admin, file: file)
            let serials = try await world.addDevices(4)
            try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.setAppDelivery(.declarations, now: world.clock.now())
            }
            _ = try await world.useCases.assignLicences(
                world.admin,
                asset: Self.key,
                to: [.device(serials[0])]
            )
            let manage = world.reconcilingInline
            _ = try await manage.putScope(
                world.admin,
                try AppScope(
                    name: ScopeName("only"),
                    asset: Self.key,
                    serialNumbers: [serials[1]],
                    mode: .licenceOnly
                ),
                dryRun: false
            )
            try await world.settleEvents()
            #expect(try await changes(world).map(\.change.serialNumber) == [serials[0].value])

            // Back to commands: the next licence gets an InstallApplication; the joined one is untouched.
            try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.setAppDelivery(.commands, now: world.clock.now())
            }
            _ = try await world.useCases.assignLicences(
                world.admin,
                asset: Self.key,
                to: [.device(serials[2])]
            )
            try await world.settleEvents()
            let installs = try await commands(world).filter { $0.kind == .installApplication }
            #expect(installs.map(\.serialNumber) == [serials[2].value])
            #expect(try await changes(world).count == 1)

            // Revoking the joined licence, though the tenant now delivers by commands: it leaves the set.
            _ = try await world.useCases.revokeLicences(
                world.admin,
                asset: Self.key,
                from: [.device(serials[0])]
            )
            try await world.settleEvents()
            let leaves = try await changes(world).filter { $0.change.kind == .leave }
            #expect(leaves.map(\.change.serialNumber) == [serials[0].value])
            #expect(try await commands(world).filter { $0.kind == .removeApplication }.isEmpty)
        }
    }

    @Test("a scope's declaration or licence-only decides; install follows the tenant's default")
    func deliveryRule() {
        let table: [(ScopeDeliveryMode?, AppDelivery, ScopeDeliveryMode)] = [
            (nil, .commands, .install), (nil, .declarations, .declaration),
            (.install, .commands, .install), (.install, .declarations, .declaration),
            (.declaration, .commands, .declaration), (.declaration, .declarations, .declaration),
            (.licenceOnly, .commands, .licenceOnly), (.licenceOnly, .declarations, .licenceOnly),
        ]
        for (scope, tenant, expected) in table {
            #expect(
                LicenceLedger.delivery(scope: scope, tenant: tenant) == expected,
                "\(String(describing: scope)) \(tenant)"
            )
        }
    }
}

/// A DDM server that records what it was asked, and fails the first `failures` calls.
final class RecordingPublisher: DeclarationPublisher {
    struct Calls {
        var published: [String] = []
        var membership: [(enrollment: String, set: String, member: Bool)] = []
        var failuresLeft = 0
    }

    let calls: Mutex<Calls>
    init(failures: Int = 0) { calls = Mutex(Calls(failuresLeft: failures)) }

    func publish(_ document: Data, identifier: String, set: String) async -> DeliveryOutcome {
        calls.withLock {
            if $0.failuresLeft > 0 {
                $0.failuresLeft -= 1
                return .retry("503")
            }
            $0.published.append(identifier)
            return .delivered
        }
    }

    func setMembership(enrollmentID: String, set: String, member: Bool) async -> DeliveryOutcome {
        calls.withLock {
            $0.membership.append((enrollmentID, set, member))
            return .delivered
        }
    }
}

@Suite("Declarative delivery: set changes carried out at the DDM server (both databases)")
struct DeclarationSetDeliveryTests {
    static let key = AssetKey(adamID: "408709785")

    func queue(_ world: World, _ serials: [SerialNumber], enrolled: Int) async throws -> [AssignmentID] {
        let ids = serials.map { _ in AssignmentID() }
        try await world.store.inTenant(world.tenant.id) { tx in
            for (i, serial) in serials.enumerated() where i < enrolled {
                try await tx.saveEnrollment(
                    serial,
                    MDMEnrollment(state: .enrolled, enrollmentID: "UDID-\(serial.value)", platform: .iOS)
                )
            }
            try await tx.enqueueDeclarationSetChanges(
                zip(serials, ids).map {
                    DeclarationSetChange(
                        serialNumber: $0.value,
                        asset: Self.key,
                        licenceKind: .device,
                        kind: .join,
                        assignmentID: $1,
                        createdAt: world.clock.now()
                    )
                }
            )
        }
        return ids
    }

    @Test(
        "two servers at once: each enrollment joins once, after the declaration is published; unenrolled ones wait",
        arguments: StoreKind.allCases
    )
    func exactlyOnce(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let serials = try await world.addDevices(30)
            _ = try await queue(world, serials, enrolled: 28)
            let publisher = RecordingPublisher()
            let deliver = DeliverDeclarationSetChanges(
                store: world.store,
                clock: world.clock,
                logger: Logger(label: "test"),
                publisher: publisher
            )
            async let a = deliver(world.tenant.id, owner: "a")
            async let b = deliver(world.tenant.id, owner: "b")
            let (ra, rb) = try await (a, b)
            #expect(ra.joined + rb.joined == 28)
            let calls = publisher.calls.withLock { $0 }
            #expect(calls.membership.count == 28, "each enrollment joined once")
            #expect(Set(calls.membership.map(\.enrollment)).count == 28)
            #expect(calls.membership.allSatisfy { $0.member && $0.set == "vpp.app.408709785.STDQ.device" })
            #expect(calls.published.allSatisfy { $0 == "vpp.app.408709785.STDQ.device" } && !calls.published.isEmpty)
            let records = try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.declarationSetChanges(serial: nil, limit: 100)
            }
            #expect(records.filter { $0.state == .done }.count == 28)
            let waiting = records.filter { $0.state == .queued }
            #expect(waiting.count == 2 && waiting.allSatisfy { ($0.lastError ?? "").contains("not enrolled") })
        }
    }

    @Test(
        "a DDM server that fails: nothing joins before the declaration is stored; retried later",
        arguments: StoreKind.allCases
    )
    func publishFirst(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let serials = try await world.addDevices(3)
            let ids = try await queue(world, serials, enrolled: 3)
            let publisher = RecordingPublisher(failures: 1)
            let deliver = DeliverDeclarationSetChanges(
                store: world.store,
                clock: world.clock,
                logger: Logger(label: "test"),
                publisher: publisher
            )
            let first = try await deliver(world.tenant.id, owner: "a")
            #expect(first.retried == 3 && first.joined == 0)
            #expect(publisher.calls.withLock { $0.membership.isEmpty }, "no set change without the declaration")
            world.clock.advance(days: 0.01)
            // A leave queued meanwhile for one licence is carried out after its join.
            try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.enqueueDeclarationSetChanges([
                    DeclarationSetChange(
                        serialNumber: serials[0].value,
                        asset: Self.key,
                        licenceKind: .device,
                        kind: .leave,
                        assignmentID: ids[0],
                        createdAt: world.clock.now()
                    )
                ])
            }
            let second = try await deliver(world.tenant.id, owner: "a")
            #expect(second.joined == 3 && second.left == 1)
            let forFirst = publisher.calls.withLock { $0.membership }.filter {
                $0.enrollment == "UDID-\(serials[0].value)"
            }
            #expect(forFirst.map(\.member) == [true, false])
        }
    }
}

/// Hands every batch the same recording publisher, and remembers what it was asked for.
final class RecordingPublishers: DeclarationPublisherFactory {
    let publisher: RecordingPublisher
    let asked = Mutex<[(DeclarationPublisherKind, String, String)]>([])
    init(publisher: RecordingPublisher) { self.publisher = publisher }

    func withPublisher(
        _ kind: DeclarationPublisherKind,
        url: String,
        apiKey: String,
        _ body: @Sendable (any DeclarationPublisher) async throws -> DeliverDeclarationSetChanges.Outcome
    ) async throws -> DeliverDeclarationSetChanges.Outcome {
        asked.withLock { $0.append((kind, url, apiKey)) }
        return try await body(publisher)
    }
}

@Suite("Declarative delivery: the DDM server's settings and the background jobs (both databases)")
struct DeclarationWiringTests {
    @Test(
        "a scope in declaration mode, a KMFDDM setting: the MDM job carries the joins out; off keeps them queued",
        arguments: StoreKind.allCases
    )
    func backgroundJobs(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let serials = try await world.enrolledFleet(2, keynoteLicences: 4).serials
            let manage = world.reconcilingInline
            _ = try await manage.putScope(
                world.admin,
                try AppScope(
                    name: ScopeName("k"),
                    asset: AssetKey(adamID: "408709785"),
                    serialNumbers: serials,
                    mode: .declaration
                ),
                dryRun: false
            )
            try await world.settleEvents()
            let publishers = RecordingPublishers(publisher: RecordingPublisher())
            let jobs = world.useCases(deliveries: NoDeliveries(), publishers: publishers).runDueJobs
            func runJobs() async throws {
                try await world.useCases.scheduleMDMWork(now: world.clock.now(), sweep: false)
                for _ in 0..<5 where !(await jobs(owner: "w", stopping: { false })).isEmpty {}
            }
            // No DDM server chosen yet: the joins wait, visible.
            try await runJobs()
            #expect(publishers.asked.withLock { $0.isEmpty })
            let configure = world.useCases.configureAppDelivery
            await #expect(throws: MDMError.self) {
                try await configure.setPublisher(.system(world.tenant.id), .kmfddm, url: "ftp://ddm", apiKey: "k")
            }
            await #expect(throws: (any Error).self) {
                // Choosing where the key goes is the tenant's business: an app manager may not.
                try await configure.setPublisher(world.admin, .kmfddm, url: "http://127.0.0.1:9", apiKey: "k")
            }
            try await configure.setPublisher(
                .system(world.tenant.id),
                .kmfddm,
                url: "http://127.0.0.1:9/",
                apiKey: " ddm-key\n"
            )
            #expect(try await configure.publisher(world.admin) == (.kmfddm, "http://127.0.0.1:9"))
            world.clock.advance(days: 0.001)
            try await runJobs()
            let asked = publishers.asked.withLock { $0 }
            #expect(asked.first.map { $0.0 == .kmfddm && $0.1 == "http://127.0.0.1:9" && $0.2 == "ddm-key" } == true)
            let joined = publishers.publisher.calls.withLock { $0.membership }
            #expect(Set(joined.map(\.enrollment)) == Set(serials.map { "UDID-\($0.value)" }))
            let records = try await configure.setChanges(world.admin, serial: nil)
            #expect(records.count == 2 && records.allSatisfy { $0.state == "done" && $0.change == "join" })
            #expect(records.allSatisfy { $0.declaration == "vpp.app.408709785.STDQ.device" })
        }
    }
}

@Suite("Declarative delivery: a device leaves the set before Apple takes the licence back (vppsim, both databases)")
struct DeclarationLeaveFirstTests {
    @Test(
        "revoke a joined licence: no disassociate until the leave is carried out, then one",
        arguments: StoreKind.allCases
    )
    func leaveBeforeRevoke(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let key = AssetKey(adamID: "408709785")
            let (serials, uid) = try await world.enrolledFleet(2, keynoteLicences: 3, declarations: true)
            _ = try await world.useCases.assignLicences(
                world.admin,
                asset: key,
                to: serials.map(Assignee.device)
            )
            try await world.settleEvents()
            let publisher = RecordingPublisher()
            let deliver = DeliverDeclarationSetChanges(
                store: world.store,
                clock: world.clock,
                logger: Logger(label: "test"),
                publisher: publisher
            )
            #expect(try await deliver(world.tenant.id, owner: "a").joined == 2)

            let before = await world.simulator.requestCount("assets/disassociate")
            _ = try await world.useCases.revokeLicences(world.admin, asset: key, from: [.device(serials[0])])
            let pump = world.useCases.carryOutAppleIntents
            _ = await pump.runDue()
            #expect(await world.simulator.requestCount("assets/disassociate") == before, "held back: still in the set")
            #expect(await world.simulator.snapshot(of: uid)?.assignedByAsset["408709785/STDQ"] == 2)

            world.clock.advance(days: 0.001)
            #expect(try await deliver(world.tenant.id, owner: "a").left == 1)
            let last = try #require(publisher.calls.withLock { $0.membership.last })
            #expect(last.enrollment == "UDID-\(serials[0].value)" && !last.member)
            _ = await pump.runDue()
            try await world.settleEvents()
            #expect(await world.simulator.requestCount("assets/disassociate") == before + 1)
            #expect(await world.simulator.snapshot(of: uid)?.assignedByAsset["408709785/STDQ"] == 1)
            // Apple's confirmation queues nothing more: the leave was the only one.
            let leaves = try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.declarationSetChanges(serial: serials[0].value, limit: 10)
            }.filter { $0.change.kind == .leave }
            #expect(leaves.count == 1 && leaves.first?.state == .done)
            let removals = try await world.store.inTenant(world.tenant.id) { tx in try await tx.deviceCommands() }
            #expect(removals.isEmpty, "no InstallApplication, no RemoveApplication")
        }
    }
}

@Suite("Declarative delivery: removing a token takes devices out of declaration sets (vppsim, both databases)")
struct DeclarationTokenRemovalTests {
    @Test(
        "the removal plan lists leaves, not RemoveApplication, for apps delivered by declaration",
        arguments: StoreKind.allCases
    )
    func removalPlan(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let key = AssetKey(adamID: "408709785")
            let (file, _) = try await world.location(
                "A",
                assets: [SimAsset(adamId: "408709785", totalCount: 3, name: "Keynote")]
            )
            let upload = try await world.useCases.uploadToken(world.admin, file: file)
            let token = try #require(upload.token)
            let serials = try await world.addDevices(3, installed: ["408709785"])
            try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.setAppDelivery(.declarations, now: world.clock.now())
            }
            _ = try await world.useCases.assignLicences(
                world.admin,
                asset: key,
                to: serials.prefix(2).map(Assignee.device)
            )
            try await world.settleEvents()  // confirmed while the tenant delivers by declarations
            try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.setAppDelivery(.commands, now: world.clock.now())
            }
            _ = try await world.useCases.assignLicences(world.admin, asset: key, to: [.device(serials[2])])
            try await world.settleEvents()
            let remove = world.useCases.removeToken
            let plan = try await remove.plan(world.admin, tokenID: token.id)
            #expect(Set(plan.leaves.map(\.serialNumber)) == Set(serials.prefix(2).map(\.value)))
            #expect(plan.uninstalls.map(\.serialNumber) == [serials[2].value], "the command-path device")
            try await remove.apply(world.admin, plan: plan)
            let leaves = try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.declarationSetChanges(serial: nil, limit: 100)
            }.filter { $0.change.kind == .leave }
            #expect(leaves.count == 2)
            let removals = try await world.store.inTenant(world.tenant.id) { tx in try await tx.deviceCommands() }
                .filter { $0.kind == .removeApplication }
            #expect(removals.map(\.serialNumber) == [serials[2].value])
        }
    }
}

@Suite("Declarative delivery: the device's status recorded on its join (both databases)")
struct DeviceStatusTests {
    @Test(
        "managed, LicenseNotFound and drift land on the device's join; other declarations and unknown devices are not",
        arguments: StoreKind.allCases
    )
    func recorded(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let serials = try await world.addDevices(1)
            let keynote = AssetKey(adamID: "408709785"), pages = AssetKey(adamID: "361309726")
            try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.saveEnrollment(
                    serials[0],
                    MDMEnrollment(state: .enrolled, enrollmentID: "UDID-1", platform: .iOS)
                )
                try await tx.enqueueDeclarationSetChanges(
                    [keynote, pages].map {
                        DeclarationSetChange(
                            serialNumber: serials[0].value,
                            asset: $0,
                            licenceKind: .device,
                            kind: .join,
                            assignmentID: AssignmentID(),
                            createdAt: world.clock.now()
                        )
                    }
                )
            }
            let report = #"""
                {"StatusItems": {"app": {"managed": {"list": [
                  {"identifier": "com.apple.Keynote", "declaration-identifier": "vpp.app.408709785.STDQ.device",
                   "state": "managed"},
                  {"identifier": "com.apple.Pages", "declaration-identifier": "vpp.app.361309726.STDQ.device",
                   "state": "failed", "reasons": [{"code": "Error.LicenseNotFound"}]},
                  {"identifier": "com.other", "declaration-identifier": "com.other.declaration", "state": "managed"}
                ]}}}}
                """#
            let record = world.useCases.recordDeviceStatus
            let outcome = try await record(world.admin, enrollmentID: "UDID-1", report: Data(report.utf8))
            #expect(outcome.recorded == [keynote: .verified, pages: .licenceNotFound] && outcome.ignored == 1)
            let rows = try await world.useCases.configureAppDelivery.setChanges(
                world.admin,
                serial: serials[0]
            )
            let keynoteRow = try #require(rows.first { $0.adamId == "408709785" })
            let pagesRow = try #require(rows.first { $0.adamId == "361309726" })
            #expect(keynoteRow.deviceState == "managed" && keynoteRow.reportedAt != nil)
            #expect(pagesRow.deviceState == "failed" && pagesRow.deviceReasons == ["Error.LicenseNotFound"])
            await #expect(throws: UseCaseError.unknownEnrollment("UDID-9")) {
                try await record(world.admin, enrollmentID: "UDID-9", report: Data(report.utf8))
            }
            await #expect(throws: StatusReportError.notJSON) {
                try await record(world.admin, enrollmentID: "UDID-1", report: Data("nope".utf8))
            }
            await #expect(throws: (any Error).self) {
                try await record(world.reader, enrollmentID: "UDID-1", report: Data(report.utf8))
            }
        }
    }
}
