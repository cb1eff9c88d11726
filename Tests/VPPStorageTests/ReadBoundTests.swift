import Foundation
import Synchronization
import Testing
import VPPComposition
import VPPDomain
import VPPSQLStore
import VPPTestSupport
import VPPUseCases

/// Counts the rows every statement returns to the server (a wrapper around the real database; the store is
/// unchanged), so a test can show that a path reads what it needs and not a whole table.
final class RowCountingDatabase: SQLDatabase {
    let inner: any SQLDatabase
    let rows = Mutex(0)

    init(_ inner: any SQLDatabase) { self.inner = inner }

    var dialect: SQLDialect { inner.dialect }
    var migrationSeam: MigrationSeam { inner.migrationSeam }

    func transaction<T: Sendable>(
        _ settings: TransactionSettings,
        _ body: @Sendable (any SQLConnection) async throws -> T
    ) async throws -> T {
        try await inner.transaction(settings) { connection in
            try await body(RowCountingConnection(inner: connection, rows: self))
        }
    }

    /// Runs `body`; returns its result and the rows its statements returned.
    func rowsRead<T>(_ body: () async throws -> T) async rethrows -> (T, Int) {
        rows.withLock { $0 = 0 }
        let result = try await body()
        return (result, rows.withLock { $0 })
    }
}

struct RowCountingConnection: SQLConnection {
    let inner: any SQLConnection
    let rows: RowCountingDatabase

    func query(_ query: SQLQuery) async throws -> [SQLRow] {
        let result = try await inner.query(query)
        rows.rows.withLock { $0 += result.count }
        return result
    }
}

/// A delivery adapter that accepts everything and keeps what it was given (the real adapters meet mdmsim in the
/// end-to-end tests).
final class AcceptingDelivery: DeviceCommandDelivery, DeviceCommandDeliveryFactory, Sendable {
    let received = Mutex<[OutgoingDeviceCommand]>([])

    func delivery(for connection: MDMConnection, credentials: MDMCredentials) throws -> any DeviceCommandDelivery {
        self
    }

    func deliver(_ commands: [OutgoingDeviceCommand]) async -> [UUID: DeliveryOutcome] {
        received.withLock { $0 += commands }
        return Dictionary(uniqueKeysWithValues: commands.map { ($0.id, .delivered) })
    }
}

/// Paths that run often read rows in proportion to their work, not to the tenant's tables: each test fills a
/// table with 2,000 rows the path does not need and counts the rows the path reads (the old whole-table reads
/// returned all of them).
@Suite("Read bounds: frequent paths read what they name, not whole tables (PostgreSQL and SQLite)")
struct ReadBoundTests {
    static let filler = 2_000

    /// The use cases over a store whose rows read are counted (the world's other ports, default settings).
    static func counted(
        _ world: World,
        deliveries: (any DeviceCommandDeliveryFactory)? = nil
    ) -> (UseCases, RowCountingDatabase) {
        let counting = RowCountingDatabase(world.sut.database)
        let ports = VPPPorts(
            store: SQLStore(database: counting, clock: { world.clock.now() }),
            apple: world.ports.apple,
            metadata: world.ports.metadata,
            secrets: world.ports.secrets,
            clock: world.ports.clock,
            mailer: nil,
            logger: world.ports.logger
        )
        return (UseCases(ports: ports, deliveries: deliveries), counting)
    }

    /// A synced token carrying Keynote, `filler` devices, and a settled Keynote licence on each of `holders`.
    static func fleet(
        _ world: World,
        holders: [Int],
        installed: Set<String> = []
    ) async throws -> (ContentToken, [SerialNumber]) {
        let (file, _) = try await world.location("A", assets: [keynoteSim])
        let token = try #require(try await world.useCases.uploadToken(world.admin, file: file).token)
        let serials = try await world.addDevices(filler, installed: installed)
        let assign = world.useCases.assignLicences.polling(firstAfter: 0)
        if !holders.isEmpty {
            _ = try await assign(
                world.admin,
                asset: AssetKey(adamID: "408709785"),
                to: holders.map { .device(serials[$0]) }
            )
            try await world.settleEvents()
        }
        return (token, serials)
    }

    static func catalogue(_ count: Int) -> [Asset] {
        (0..<count).map { i in
            Asset(
                key: AssetKey(adamID: String(700_000 + i)),
                productType: .app,
                platforms: [.iOS],
                isDeviceAssignable: true,
                isRevocable: true
            )
        }
    }

    @Test(
        "the device-command list with payloads reads its page's apps, not the catalogue",
        arguments: StoreKind.allCases
    )
    func commandList(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let apps = Self.catalogue(Self.filler)
            let removed = apps[1_234].key
            try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.upsertApps(apps)
                try await tx.setMetadata(AppMetadata(name: "Removed", bundleID: "com.example.removed"), for: removed)
                try await tx.upsertDevices([Device(tenantID: world.tenant.id, serialNumber: serial(1))])
                try await tx.enqueueDeviceCommands([
                    DeviceCommand(
                        serialNumber: serial(1).value,
                        kind: .removeApplication,
                        adamID: removed.adamID,
                        createdAt: world.clock.now()
                    )
                ])
            }
            let (useCases, counting) = Self.counted(world)
            let (views, rows) = try await counting.rowsRead {
                try await useCases.deviceCommandList.list(world.admin, DeviceCommandQuery(), withPlist: true)
            }
            let plist = try #require(views.first?.plist.flatMap { Data(base64Encoded: $0) })
            #expect(String(decoding: plist, as: UTF8.self).contains("com.example.removed"), "the bundle id is found")
            #expect(rows < 20, "read \(rows) rows for one command in a catalogue of \(Self.filler) apps")
        }
    }

    @Test("delivering a RemoveApplication reads the command's app, not the catalogue", arguments: StoreKind.allCases)
    func delivery(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let apps = Self.catalogue(Self.filler)
            let removed = apps[1_234].key
            _ = try await world.useCases.configureMDM.connect(
                .system(world.tenant.id),
                MDMConnectionRequest(kind: .nanomdm, url: "http://127.0.0.1:9", apiKey: "k")
            )
            try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.upsertApps(apps)
                try await tx.setMetadata(AppMetadata(name: "Removed", bundleID: "com.example.removed"), for: removed)
                try await tx.saveEnrollment(serial(1), MDMEnrollment(state: .enrolled, enrollmentID: "udid-1"))
                try await tx.enqueueDeviceCommands([
                    DeviceCommand(
                        serialNumber: serial(1).value,
                        kind: .removeApplication,
                        adamID: removed.adamID,
                        createdAt: world.clock.now()
                    )
                ])
            }
            let mdm = AcceptingDelivery()
            let (useCases, counting) = Self.counted(world, deliveries: mdm)
            let (outcome, rows) = try await counting.rowsRead {
                try await useCases.deliverDeviceCommands(world.tenant.id, owner: "a")
            }
            #expect(outcome.delivered == 1)
            let sent = try #require(mdm.received.withLock { $0.first })
            #expect(String(decoding: sent.plist, as: UTF8.self).contains("com.example.removed"), "bundle id found")
            #expect(rows < 20, "read \(rows) rows to deliver one command in a catalogue of \(Self.filler) apps")
        }
    }

    @Test(
        "a device's InstalledApplicationList is mapped by its bundle ids, not by reading the catalogue",
        arguments: StoreKind.allCases
    )
    func installedApps(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let apps = Self.catalogue(Self.filler)
            let udid = "00008110-000A1234ABCD801E"
            let list = DeviceCommand(
                serialNumber: serial(1).value,
                kind: .installedApplicationList,
                adamID: "",
                createdAt: world.clock.now()
            )
            try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.upsertApps(apps)
                try await tx.setMetadata(AppMetadata(name: "42", bundleID: "com.example.fortytwo"), for: apps[42].key)
                try await tx.setMetadata(AppMetadata(name: "43", bundleID: "com.example.busy"), for: apps[43].key)
                try await tx.saveEnrollment(serial(1), MDMEnrollment(state: .enrolled, enrollmentID: udid))
                try await tx.enqueueDeviceCommands([list])
                // The device's answer as the MDM webhook records it: apps vpp knows, one it does not, one installing.
                let payload = try PropertyListSerialization.data(
                    fromPropertyList: [
                        "InstalledApplicationList": [
                            ["Identifier": "com.example.fortytwo"], ["Identifier": "com.apple.mobilesafari"],
                            ["Identifier": "com.example.busy", "Installing": true],
                        ]
                    ],
                    format: .xml,
                    options: 0
                )
                let body: [String: Any] = [
                    "topic": "mdm.Connect", "event_id": "ack-1",
                    "acknowledge_event": [
                        "udid": udid, "status": "Acknowledged", "command_uuid": list.id.uuidString,
                        "raw_payload": payload.base64EncodedString(),
                    ],
                ]
                let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
                _ = try await tx.recordMDMEvent(
                    MDMEventRecord(receivedAt: world.clock.now(), topic: "mdm.Connect", dedupeKey: "ack-1", body: json)
                )
            }
            let (useCases, counting) = Self.counted(world)
            let (_, rows) = try await counting.rowsRead {
                try await useCases.processMDMEvents(world.tenant.id)
            }
            let device = try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.device(serial(1))
            }
            #expect(device?.installedAdamIDs == [apps[42].key.adamID], "only the known, finished install")
            #expect(rows < 30, "read \(rows) rows for a list of 3 apps in a catalogue of \(Self.filler)")
        }
    }

    @Test("polling due Apple events reads the due ones, not every pending event", arguments: StoreKind.allCases)
    func dueEvents(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let token = makeToken(world.tenant.id)
            let later = world.clock.now().addingTimeInterval(3_600)
            try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.insertToken(token, secret: SealedSecret(keyID: "k1", ciphertext: [1]))
                try await tx.insertPendingEvents(
                    (0..<Self.filler).map {
                        PendingAppleEvent(
                            eventID: "e\($0)",
                            tokenID: token.id,
                            kind: "associate",
                            createdAt: world.clock.now(),
                            nextPollAt: later
                        )
                    }
                )
            }
            let (useCases, counting) = Self.counted(world)
            let (polled, rows) = try await counting.rowsRead {
                try await useCases.processAppleEvent.pollDue(world.tenant.id)
            }
            #expect(polled == 0)
            #expect(rows <= 2, "read \(rows) rows with \(Self.filler) events pending, none due")
        }
    }

    @Test("due Apple events are all polled, a bounded batch at a time", arguments: StoreKind.allCases)
    func dueEventsInBatches(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (_, serials) = try await Self.fleet(world, holders: [])
            let assign = world.useCases.assignLicences.polling(firstAfter: 0).waiting(forApple: .zero)
            for serial in serials.prefix(5) {
                _ = try await assign(world.admin, asset: AssetKey(adamID: "408709785"), to: [.device(serial)])
            }
            let pending = try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.pendingEvents()
            }
            #expect(pending.count == 5, "one Apple event per request")
            try await Task.sleep(for: .milliseconds(100))
            let events = world.useCases.processAppleEvent.pollingDue(inBatchesOf: 2)
            #expect(try await events.pollDue(world.tenant.id) == 5, "three batches: 2, 2, 1")
            let left = try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.pendingEvents()
            }
            #expect(left.isEmpty)
        }
    }

    @Test(
        "a console list page (devices with their licences, a later page, the app's picker) reads its page",
        arguments: StoreKind.allCases
    )
    func consolePages(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (_, serials) = try await Self.fleet(world, holders: [3, 60])
            let (useCases, counting) = Self.counted(world)
            let catalogue = useCases.catalogue
            // The second page, as the console's "Next page" asks for it, and the licences its devices hold.
            let first = try await catalogue.devicePage(world.reader, filter: DeviceFilter(), after: nil, limit: 50)
            let ((page, held), rows) = try await counting.rowsRead {
                let page = try await catalogue.devicePage(
                    world.reader,
                    filter: DeviceFilter(),
                    after: first.next,
                    limit: 50
                )
                let held = try await catalogue.heldLicences(
                    world.reader,
                    try page.items.map { .device(try SerialNumber($0.serialNumber)) }
                )
                return (page, held)
            }
            #expect(page.items.first?.serialNumber == serials[50].value && held.count == 1)
            #expect(rows < 60, "read \(rows) rows for a page of 50 in an inventory of \(Self.filler) devices")
            // The picker scans at most the first 1,000 devices, never the inventory.
            let (picks, pickRows) = try await counting.rowsRead {
                try await catalogue.devicesWithout(world.reader, AssetKey(adamID: "408709785"), limit: 100, scan: 1_000)
            }
            #expect(picks.count == 100 && !picks.contains { $0.serialNumber == serials[3].value })
            // The 1,000 scanned, their licences of the app (2 here), PostgreSQL's tenant-scope statement.
            #expect(pickRows < 1_010, "read \(pickRows) rows to offer 100 of \(Self.filler) devices")
        }
    }

    @Test(
        "planning a token's removal reads the devices holding its licences, not the inventory",
        arguments: StoreKind.allCases
    )
    func removalPlan(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (token, serials) = try await Self.fleet(world, holders: [7], installed: ["408709785"])
            let (useCases, counting) = Self.counted(world)
            let (plan, rows) = try await counting.rowsRead {
                try await useCases.removeToken.plan(world.admin, tokenID: token.id)
            }
            #expect(plan.uninstalls.map(\.serialNumber) == [serials[7].value], "the holder has the app: uninstall")
            #expect(rows < 20, "read \(rows) rows for one licence in an inventory of \(Self.filler) devices")
        }
    }

    @Test(
        "reclaiming retired devices' licences reads only what it takes back; others keep theirs",
        arguments: StoreKind.allCases
    )
    func reclaim(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (_, serials) = try await Self.fleet(world, holders: [1, 2])
            let keynoteKey = AssetKey(adamID: "408709785")
            _ = try await world.useCases.retireDevices(world.admin, [serials[1], serials[3]])
            let (useCases, counting) = Self.counted(world)
            let revoke = useCases.revokeLicences.polling(firstAfter: 0)
            let (reclaimed, rows) = try await counting.rowsRead { try await revoke.reclaimRetired(world.admin) }
            #expect(reclaimed == 1, "the retired holder's licence, not the active device's")
            #expect(rows < 60, "read \(rows) rows to reclaim one licence among \(Self.filler) devices")
            try await world.settleEvents()
            let held = try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.assignments(AssignmentQuery(asset: keynoteKey, states: AssignmentState.Code.holding))
            }
            #expect(held.map(\.assignee) == [.device(serials[2])])
            // A retired device refuses a new licence exactly as before.
            await #expect(throws: (any Error).self) {
                _ = try await world.useCases.assignLicences(
                    world.admin,
                    asset: keynoteKey,
                    to: [.device(serials[3])]
                )
            }
        }
    }

    @Test(
        "reclaiming an unenrolled device reads that device's licences, not the tenant's ledger",
        arguments: StoreKind.allCases
    )
    func reclaimUnenrolled(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (token, serials) = try await Self.fleet(world, holders: [5])
            let left = world.clock.now().addingTimeInterval(-2 * 86_400)
            // Filler: every other device holds an active licence of another app (rows only, as an import would).
            let other = AssetKey(adamID: "361309726")
            let filler = serials.dropFirst(6).map {
                Assignment(
                    tenantID: world.tenant.id,
                    asset: other,
                    assignee: .device($0),
                    grantingToken: token.id,
                    state: .active
                )
            }
            _ = try await world.useCases.configureMDM.connect(
                .system(world.tenant.id),
                MDMConnectionRequest(kind: .pull, url: "", reclaimAfter: 3_600)
            )
            try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.upsertApps(
                    Self.catalogue(1).map {
                        Asset(
                            key: other,
                            productType: $0.productType,
                            platforms: $0.platforms,
                            isDeviceAssignable: true,
                            isRevocable: true
                        )
                    }
                )
                try await tx.insertAssignments(filler)
                try await tx.saveEnrollment(serials[5], MDMEnrollment(state: .unenrolled, unenrolledAt: left))
            }
            let (useCases, counting) = Self.counted(world)
            let (plan, rows) = try await counting.rowsRead {
                try await useCases.reclaimUnenrolledDevices(.system(world.tenant.id), dryRun: true)
            }
            #expect(plan.map(\.serialNumber) == [serials[5].value] && plan.first?.adamIds == ["408709785"])
            #expect(rows < 40, "read \(rows) rows to plan one device's reclaim among \(filler.count + 1) licences")
        }
    }
}
