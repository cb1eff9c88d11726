import Foundation
import Testing
import VPPDomain
import VPPSQLStore
import VPPTestSupport
import VPPUseCases

@Suite("Storage contract (PostgreSQL and SQLite, same tests)")
struct StoreContractTests {
    @Test("tenants: create, look up, refuse a duplicate name", arguments: StoreKind.allCases)
    func tenants(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let acme = makeTenant("Acme")
            try await sut.store.createTenant(acme)
            #expect(try await sut.store.tenant(acme.id) == acme)
            #expect(try await sut.store.tenant(named: "Acme") == acme)
            #expect(try await sut.store.tenant(holderID: acme.holderIdentity.id) == acme)
            await #expect(throws: StoreError.duplicateTenant("Acme")) {
                try await sut.store.createTenant(makeTenant("Acme"))
            }
            #expect(try await sut.store.tenants().count == 1)
        }
    }

    @Test(
        "tokens: insert, read, update, refuse a second token for the same location, delete with everything under it",
        arguments: StoreKind.allCases
    )
    func tokens(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, token) = try await seedTenant(sut.store)
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                #expect(try await tx.token(token.id) == token)
                #expect(try await tx.token(locationAppleID: "1001") == token)
                #expect(try await tx.tokenSecret(token.id) == SealedSecret(keyID: "k1", ciphertext: [1, 2, 3]))
                var changed = token
                changed.observedHolder = HolderIdentity(id: "other", name: "Jamf Pro", metadata: "jss")
                changed.revokedAt = now
                try await tx.updateToken(changed)
                #expect(try await tx.token(token.id) == changed)
                try await tx.replaceTokenSecret(token.id, secret: SealedSecret(keyID: "k2", ciphertext: [9]))
                #expect(try await tx.tokenSecret(token.id)?.keyID == "k2")
            }
            await #expect(throws: StoreError.duplicateLocation(locationName: "Main Campus")) {
                try await sut.store.inTenant(tenant.id) { (tx) async throws in
                    try await tx.insertToken(makeToken(tenant.id), secret: SealedSecret(keyID: "k1", ciphertext: [1]))
                }
            }
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                try await tx.insertAssignments([
                    Assignment(
                        tenantID: tenant.id,
                        asset: keynote.key,
                        assignee: .device(serial(1)),
                        grantingToken: token.id
                    )
                ])
                try await tx.saveSyncState(
                    TokenSyncState(tokenID: token.id, assignmentsVersionID: "v1", lastSuccessAt: now)
                )
                try await tx.insertPendingEvents([
                    PendingAppleEvent(
                        eventID: "e1",
                        tokenID: token.id,
                        kind: "associate",
                        createdAt: now,
                        nextPollAt: now
                    )
                ])
                try await tx.deleteToken(token.id)
                #expect(try await tx.tokens().isEmpty)
                #expect(try await tx.assignments(AssignmentQuery()).isEmpty)
                #expect(try await tx.counts(tokenID: nil).isEmpty)
                #expect(try await tx.pendingEvents().isEmpty)
                #expect(try await tx.deleteOrphanApps() == [keynote.key])
                await #expect(throws: StoreError.unknownToken(token.id)) { try await tx.deleteToken(token.id) }
            }
        }
    }

    @Test("a failed unit of work leaves nothing behind", arguments: StoreKind.allCases)
    func atomicity(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, token) = try await seedTenant(sut.store)
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await sut.store.inTenant(tenant.id) { (tx) async throws in
                    _ = try await tx.reserve(keynote.key, from: token.id, count: 3)
                    try await tx.insertAssignments([
                        Assignment(
                            tenantID: tenant.id,
                            asset: keynote.key,
                            assignee: .device(serial(1)),
                            grantingToken: token.id
                        )
                    ])
                    try await tx.appendAudit(
                        AuditRecord(at: now, actor: "ana", action: "assign", target: "x", outcome: "ok")
                    )
                    throw Boom()
                }
            }
            let unknown = AssetKey(adamID: "999")
            await #expect(throws: StoreError.unknownApp(unknown)) {
                try await sut.store.inTenant(tenant.id) { (tx) async throws in
                    try await tx.insertAssignments([
                        Assignment(
                            tenantID: tenant.id,
                            asset: keynote.key,
                            assignee: .device(serial(2)),
                            grantingToken: token.id
                        ),
                        Assignment(
                            tenantID: tenant.id,
                            asset: unknown,
                            assignee: .device(serial(3)),
                            grantingToken: token.id
                        ),
                    ])
                }
            }
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                #expect(try await tx.counts(tokenID: token.id).first?.counts.available == 10)
                #expect(try await tx.assignments(AssignmentQuery()).isEmpty)
                #expect(try await tx.auditLog(limit: 10).isEmpty)
            }
        }
    }

    @Test(
        "catalogue: apps upsert, metadata, counts replaced by sync keep in-flight reservations out of the pool",
        arguments: StoreKind.allCases
    )
    func catalogue(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, token) = try await seedTenant(sut.store, licences: 10)
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                try await tx.setMetadata(
                    AppMetadata(
                        name: "Keynote",
                        bundleID: "com.apple.iwork.keynote",
                        iconURL: URL(string: "https://example.com/k.png"),
                        version: "14.1"
                    ),
                    for: keynote.key
                )
                let record = try #require(try await tx.app(keynote.key))
                #expect(
                    record.asset == keynote && record.metadata?.name == "Keynote" && record.metadata?.version == "14.1"
                )
                await #expect(throws: StoreError.unknownApp(AssetKey(adamID: "1"))) {
                    try await tx.setMetadata(AppMetadata(name: "x"), for: AssetKey(adamID: "1"))
                }
                // Two licences reserved and sent to Apple, not yet counted by Apple.
                #expect(try await tx.reserve(keynote.key, from: token.id, count: 2))
                try await tx.insertAssignments(
                    (1...2).map {
                        Assignment(
                            tenantID: tenant.id,
                            asset: keynote.key,
                            assignee: .device(serial($0)),
                            grantingToken: token.id,
                            state: .pending(eventID: "e")
                        )
                    }
                )
                // Apple still reports 10 available: the sync must not give the two in flight back.
                try await tx.replaceCounts(tokenID: token.id, [keynote.key: counts(10)])
                let stored = try #require(try await tx.counts(tokenID: token.id).first)
                #expect(stored.counts.available == 8 && stored.counts.assigned == 2)
            }
        }
    }

    static func merged(
        _ tx: any TenantTransaction,
        _ token: TokenID,
        _ records: [AppleAssignmentRecord],
        full: Bool
    )
        async throws -> [Int]
    {
        let outcome = try await tx.mergeAppleAssignments(tokenID: token, records, fullSnapshot: full)
        return [outcome.inserted, outcome.deleted]
    }

    @Test(
        "merging Apple's assignments: full snapshots add and remove, incremental ones only add, in-flight rows are kept",
        arguments: StoreKind.allCases
    )
    func mergeAssignments(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, token) = try await seedTenant(sut.store)
            @Sendable func apple(_ range: ClosedRange<Int>) -> [AppleAssignmentRecord] {
                range.map { AppleAssignmentRecord(asset: keynote.key, assignee: .serialNumber(serial($0).value)) }
            }
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                try await tx.insertAssignments([
                    Assignment(
                        tenantID: tenant.id,
                        asset: keynote.key,
                        assignee: .device(serial(100)),
                        grantingToken: token.id,
                        state: .pending(eventID: "e")
                    )
                ])
                #expect(try await Self.merged(tx, token.id, apple(1...5), full: true) == [5, 0])
                #expect(try await Self.merged(tx, token.id, apple(1...5), full: true) == [0, 0])
                #expect(try await Self.merged(tx, token.id, apple(6...7), full: false) == [2, 0])
                #expect(try await Self.merged(tx, token.id, apple(3...7), full: true) == [0, 2])
                let rows = try await tx.assignments(AssignmentQuery(tokenID: token.id))
                #expect(rows.count == 6, "5 from Apple plus the pending one")
                #expect(rows.filter { $0.state == .active }.count == 5)
                #expect(
                    try await tx.assignments(AssignmentQuery(states: [.pending])).map(\.assignee) == [
                        .device(serial(100))
                    ]
                )
            }
        }
    }

    @Test("devices, users, outboxes, events and audit round-trip", arguments: StoreKind.allCases)
    func inventoryAndOutboxes(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, token) = try await seedTenant(sut.store)
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                let device = Device(
                    tenantID: tenant.id,
                    serialNumber: serial(1),
                    name: "iPad 1",
                    installedAdamIDs: ["408709785"]
                )
                try await tx.upsertDevices([device, Device(tenantID: tenant.id, serialNumber: serial(2))])
                #expect(try await tx.device(serial(1)) == device)
                #expect(try await tx.devices().count == 2)
                let user = try ManagedUser(
                    tenantID: tenant.id,
                    clientUserID: ClientUserID("u-1"),
                    email: "ana@acme.example"
                )
                try await tx.upsertUsers([user])
                #expect(try await tx.users() == [user])
                let command = DeviceCommand(
                    serialNumber: serial(1).value,
                    kind: .installApplication,
                    adamID: "408709785",
                    createdAt: now
                )
                try await tx.enqueueDeviceCommands([command])
                #expect(try await tx.deviceCommands() == [command])
                var notice = Notice(
                    tokenID: token.id,
                    kind: .expiresIn30Days,
                    tokenExpiresAt: token.expiresAt,
                    recipients: ["it@acme.example"],
                    subject: "s",
                    body: "b",
                    nextAttemptAt: now
                )
                #expect(try await tx.enqueueNotice(notice))
                #expect(
                    try await !tx.enqueueNotice(
                        Notice(
                            tokenID: token.id,
                            kind: .expiresIn30Days,
                            tokenExpiresAt: token.expiresAt,
                            recipients: [],
                            subject: "again",
                            body: "b",
                            nextAttemptAt: now
                        )
                    )
                )
                notice.sentAt = now
                notice.attempts = 1
                try await tx.updateNotice(notice)
                #expect(try await tx.notices() == [notice])
                let record = AuditRecord(
                    at: now,
                    actor: "ana",
                    action: "token.upload",
                    target: "Main Campus",
                    outcome: "ok",
                    detail: "d"
                )
                try await tx.appendAudit(record)
                #expect(try await tx.auditLog(limit: 5) == [record])
            }
        }
    }
}
