import Foundation
import Testing
import VPPDomain
import VPPSQLStore
import VPPTestSupport
import VPPUseCases

@Suite("MDM storage (PostgreSQL and SQLite, same tests)")
struct MDMStoreTests {
    func seed(_ store: any Store) async throws -> Tenant {
        let tenant = makeTenant("Acme")
        try await store.createTenant(tenant)
        return tenant
    }

    @Test("connection: saved with sealed secrets, read back, replaced, disabled", arguments: StoreKind.allCases)
    func connection(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let tenant = try await seed(sut.store)
            let stored = StoredMDMConnection(
                connection: MDMConnection(
                    kind: .nanomdm,
                    url: "http://mdm.example",
                    reclaimAfter: 3600,
                    silentDaysUnenrolled: 30,
                    licenceOnlyAdamIDs: ["1", "2"],
                    updatedAt: now
                ),
                secrets: MDMSealedSecrets(
                    apiKey: SealedSecret(keyID: "k", ciphertext: [1, 2]),
                    webhookHMACKey: nil,
                    signingSecret: nil
                )
            )
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                #expect(try await tx.mdmConnection() == nil)
                try await tx.saveMDMConnection(stored)
                #expect(try await tx.mdmConnection() == stored)
                var next = stored
                next.connection.kind = .webhook
                next.secrets.signingSecret = SealedSecret(keyID: "k", ciphertext: [3])
                try await tx.saveMDMConnection(next)
                #expect(try await tx.mdmConnection() == next)
                try await tx.disableMDMConnection(reason: "410 Gone")
                #expect(try await tx.mdmConnection()?.connection.disabledReason == "410 Gone")
            }
            #expect(try await sut.store.tenantsWithMDMConnection() == [tenant.id])
            // An unknown stored kind is an error, never a default.
            _ = try await sut.raw("UPDATE mdm_connections SET kind = 'jamf'")
            await #expect(throws: StoreError.unreadable("MDM kind jamf")) {
                try await sut.store.inTenant(tenant.id) { (tx) async throws in _ = try await tx.mdmConnection() }
            }
        }
    }

    @Test(
        "device commands: claimed once under a lease, retried, finished only by the claimer, listed with a cursor",
        arguments: StoreKind.allCases
    )
    func commands(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let tenant = try await seed(sut.store)
            let commands = (0..<5).map {
                DeviceCommand(
                    serialNumber: "C02XK1JHJG5\($0)",
                    kind: .installApplication,
                    adamID: "408709785",
                    assignmentID: AssignmentID(),
                    createdAt: now.addingTimeInterval(Double($0))
                )
            }
            let records: ([DeviceCommandRecord], [DeviceCommandRecord], [DeviceCommandRecord]) = try await sut.store
                .inTenant(tenant.id) { tx in
                    try await tx.enqueueDeviceCommands(commands)
                    try await tx.enqueueDeviceCommands(commands)  // idempotent
                    let first = try await tx.claimDueDeviceCommands(
                        owner: "a",
                        now: now.addingTimeInterval(10),
                        lease: 60,
                        limit: 3
                    )
                    let second = try await tx.claimDueDeviceCommands(
                        owner: "b",
                        now: now.addingTimeInterval(10),
                        lease: 60,
                        limit: 10
                    )
                    // After the lease expires, a's unfinished claims are free again.
                    let third = try await tx.claimDueDeviceCommands(
                        owner: "c",
                        now: now.addingTimeInterval(100),
                        lease: 60,
                        limit: 10
                    )
                    return (first, second, third)
                }
            #expect(records.0.map(\.command.id) == commands.prefix(3).map(\.id))
            #expect(records.1.map(\.command.id) == commands.suffix(2).map(\.id))
            #expect(Set(records.2.map(\.command.id)) == Set(commands.map(\.id)))
            #expect(records.2.allSatisfy { $0.attempts == 2 })
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                let id = commands[0].id
                #expect(
                    try await !tx.finishDelivery(id, owner: "a", DeviceCommandUpdate(state: .delivered), at: now),
                    "a lost its lease"
                )
                #expect(
                    try await tx.finishDelivery(
                        id,
                        owner: "c",
                        DeviceCommandUpdate(
                            state: .delivered,
                            deliveredAt: now,
                            enrollmentID: "UDID-0"
                        ),
                        at: now
                    )
                )
                #expect(
                    try await tx.finishDelivery(
                        commands[1].id,
                        owner: "c",
                        DeviceCommandUpdate(
                            state: .queued,
                            nextAttemptAt: now.addingTimeInterval(500),
                            lastError: "MDM down"
                        ),
                        at: now
                    )
                )
                #expect(try await tx.deviceCommandRecord(id)?.state == .delivered)
                #expect(try await tx.deviceCommandRecord(id)?.enrollmentID == "UDID-0")
                let retried = try #require(try await tx.deviceCommandRecord(commands[1].id))
                #expect(
                    retried.state == .queued && retried.lastError == "MDM down"
                        && retried.nextAttemptAt == now.addingTimeInterval(500)
                )
                #expect(
                    try await tx.claimDueDeviceCommands(
                        owner: "d",
                        now: now.addingTimeInterval(150),
                        lease: 60,
                        limit: 10
                    )
                    .map(\.command.id) == [],
                    "c's leases are still held; the retried one is not due"
                )
                #expect(
                    try await tx.claimDueDeviceCommands(
                        owner: "d",
                        now: now.addingTimeInterval(600),
                        lease: 60,
                        limit: 10
                    )
                    .map(\.command.id) == commands.suffix(4).map(\.id),
                    "expired leases and the retry are due"
                )
                #expect(try await tx.deviceCommandCounts() == [.delivered: 1, .queued: 4])
                try await tx.updateDeviceCommand(commands[4].id, DeviceCommandUpdate(state: .acknowledged), at: now)
                let page = try await tx.deviceCommandRecords(DeviceCommandQuery(limit: 2))
                #expect(page.map(\.command.id) == commands.prefix(2).map(\.id))
                let cursor = DeviceCommandCursor(createdAt: page[1].command.createdAt, id: page[1].command.id)
                #expect(DeviceCommandCursor(cursor.description) == cursor)
                let rest = try await tx.deviceCommandRecords(DeviceCommandQuery(after: cursor, limit: 10))
                #expect(rest.map(\.command.id) == commands.suffix(3).map(\.id))
                #expect(
                    try await tx.deviceCommandRecords(DeviceCommandQuery(states: [.delivered])).map(\.command.id) == [
                        id
                    ]
                )
                #expect(
                    try await tx.deviceCommandRecords(DeviceCommandQuery(states: [.delivered, .acknowledged])).count
                        == 2
                )
                #expect(try await tx.deviceCommandRecords(DeviceCommandQuery(serialNumber: "C02XK1JHJG54")).count == 1)
            }
            _ = try await sut.raw("UPDATE device_commands SET state = 'launched'")
            await #expect(throws: StoreError.unreadable("device command state launched")) {
                try await sut.store.inTenant(tenant.id) { (tx) async throws in
                    _ = try await tx.deviceCommandRecords(DeviceCommandQuery())
                }
            }
        }
    }

    @Test(
        "devices: enrollment saved, found by UDID, unenrolled, due for reclaim until marked",
        arguments: StoreKind.allCases
    )
    func devices(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let tenant = try await seed(sut.store)
            let serial = try SerialNumber("C02XK1JHJG5J")
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                try await tx.upsertDevices([Device(tenantID: tenant.id, serialNumber: serial, name: "Lab 1")])
                let enrolled = MDMEnrollment(
                    state: .enrolled,
                    enrollmentID: "UDID-1",
                    model: "iPad13,4",
                    osVersion: "17.5",
                    platform: .iOS,
                    lastSeenAt: now
                )
                try await tx.saveEnrollment(serial, enrolled)
                let device = try #require(try await tx.device(enrollmentID: "UDID-1"))
                #expect(device.name == "Lab 1" && device.enrollment == enrolled)
                #expect(try await tx.devices().map(\.serialNumber) == [serial])
                try await tx.setInstalledApps(serial, adamIDs: ["408709785"], seenAt: now.addingTimeInterval(5))
                #expect(try await tx.mdmDevice(serial: serial)?.installedAdamIDs == ["408709785"])
                #expect(try await tx.unenrollSilentDevices(lastSeenBefore: now, now: now.addingTimeInterval(10)) == [])
                #expect(
                    try await tx.unenrollSilentDevices(
                        lastSeenBefore: now.addingTimeInterval(6),
                        now: now.addingTimeInterval(10)
                    ) == [serial]
                )
                #expect(try await tx.devicesDueForReclaim(unenrolledBefore: now).isEmpty)
                #expect(
                    try await tx.devicesDueForReclaim(unenrolledBefore: now.addingTimeInterval(10)).map(\.serialNumber)
                        == [serial]
                )
                try await tx.markReclaimed(serial, at: now.addingTimeInterval(11))
                #expect(try await tx.devicesDueForReclaim(unenrolledBefore: now.addingTimeInterval(100)).isEmpty)
            }
        }
    }

    @Test(
        "webhook events: recorded once per dedupe key, repeats not stored, pending listed oldest first, pruned",
        arguments: StoreKind.allCases
    )
    func events(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let tenant = try await seed(sut.store)
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                let first = MDMEventRecord(receivedAt: now, topic: "mdm.Authenticate", dedupeKey: "event:1", body: "{}")
                #expect(try await tx.recordMDMEvent(first) == .pending)
                #expect(
                    try await tx.recordMDMEvent(
                        MDMEventRecord(
                            receivedAt: now,
                            topic: "mdm.Authenticate",
                            dedupeKey: "event:1",
                            body: "{}"
                        )
                    ) == .duplicate
                )
                #expect(
                    try await tx.recordMDMEvent(
                        MDMEventRecord(
                            receivedAt: now.addingTimeInterval(1),
                            topic: "mdm.CheckOut",
                            dedupeKey: "event:2",
                            body: "{}"
                        )
                    ) == .pending
                )
                #expect(try await tx.pendingMDMEvents(limit: 10).map(\.topic) == ["mdm.Authenticate", "mdm.CheckOut"])
                try await tx.markMDMEvent(first.id, .processed, detail: "ok")
                #expect(try await tx.pendingMDMEvents(limit: 10).map(\.topic) == ["mdm.CheckOut"])
                #expect(try await tx.mdmEvents(limit: 10).count == 2, "a repeat takes no row")
                // Pruning deletes only what is past the cutoff and no longer pending.
                #expect(try await tx.pruneMDMEvents(receivedBefore: now.addingTimeInterval(60), limit: 10) == 1)
                #expect(try await tx.mdmEvents(limit: 10).map(\.topic) == ["mdm.CheckOut"])
            }
            #expect(try await sut.store.tenantsWithMDMWork(now: now) == [tenant.id])
        }
    }
}
