import Foundation
import Testing
import VPPAppleSimulator
import VPPDomain
import VPPTestSupport
import VPPUseCases

@Suite("Apps and licences, end to end (simulator over HTTP, real store)")
struct LicenceTests {
    /// Two tokens sharing Keynote (5 + 2 licences), devices added, both synced.
    func pooledWorld(_ world: World) async throws -> (ContentToken, ContentToken, [SerialNumber]) {
        let (fileA, _) = try await world.location("A", assets: [keynoteSim, bookSim], validDays: 300)
        let (fileB, _) = try await world.location(
            "B",
            assets: [SimAsset(adamId: "408709785", totalCount: 2)],
            validDays: 200
        )
        let a = try #require(try await world.useCases.uploadToken(world.admin, file: fileA).token)
        let b = try #require(try await world.useCases.uploadToken(world.admin, file: fileB).token)
        return (a, b, try await world.addDevices(10, installed: ["408709785"]))
    }

    @Test(
        "the pool spans tokens; assignment reserves, asks Apple, and installs only after Apple confirms",
        arguments: StoreKind.allCases
    )
    func assignAcrossTokens(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (a, b, serials) = try await pooledWorld(world)
            let report = try await world.useCases.reports.licences(world.reader)
            let pool = try #require(report.first { $0.adamID == "408709785" && $0.location == "(pool)" })
            #expect(pool.total == 7 && pool.available == 7)
            let assign = world.useCases.assignLicences.polling(firstAfter: 0)
            let outcome = try await assign(
                world.admin,
                asset: keynoteSim.key,
                to: serials.prefix(6).map { .device($0) }
            )
            #expect(outcome.sentByToken == [a.id: 5, b.id: 1], "A expires last, so it grants first")
            var commands = try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.deviceCommands()
            }
            #expect(commands.isEmpty, "no install before Apple confirms")
            try await world.settleEvents()
            commands = try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.deviceCommands()
            }
            #expect(
                commands.count == 6
                    && commands.allSatisfy { $0.kind == .installApplication && $0.adamID == "408709785" }
            )
            let rows = try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.assignments(AssignmentQuery())
            }
            #expect(rows.filter { $0.state == .active }.count == 6)
            // One left in the pool; two asked: refused whole, naming the app, nothing reserved.
            await #expect(throws: LicenceError.noLicencesLeft(keynoteSim.key, requested: 2, available: 1)) {
                _ = try await assign(world.admin, asset: keynoteSim.key, to: serials[6...7].map { .device($0) })
            }
            let after = try await world.useCases.reports.licences(world.reader).first {
                $0.adamID == "408709785" && $0.location == "(pool)"
            }
            #expect(after?.available == 1)
            let csv = Reports.csv(try await world.useCases.reports.licences(world.reader))
            #expect(csv.hasPrefix("adamId,pricingParam,name,location,tokenStatus,total,assigned,available,retired\n"))
            #expect(csv.contains("408709785,STDQ,Keynote,(pool),usable,7,6,1,0"))
        }
    }

    @Test("bad requests are refused by name and change nothing", arguments: StoreKind.allCases)
    func badRequests(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (_, _, serials) = try await pooledWorld(world)
            let assign = world.useCases.assignLicences
            await #expect(throws: StoreError.unknownApp(AssetKey(adamID: "1"))) {
                _ = try await assign(world.admin, asset: AssetKey(adamID: "1"), to: [.device(serials[0])])
            }
            await #expect(throws: LicenceError.bookToDevice(bookSim.key)) {
                _ = try await assign(world.admin, asset: bookSim.key, to: [.device(serials[0])])
            }
            let stranger = try SerialNumber("UNKNOWN0001")
            await #expect(throws: UseCaseError.unknownDevices(["UNKNOWN0001"])) {
                _ = try await assign(world.admin, asset: keynoteSim.key, to: [.device(stranger)])
            }
            await #expect(throws: UseCaseError.unknownUsers(["ghost"])) {
                _ = try await assign(world.admin, asset: bookSim.key, to: [.user(try ClientUserID("ghost"))])
            }
            await #expect(throws: UseCaseError.duplicateAssignees([serials[0].value])) {
                _ = try await assign(
                    world.admin,
                    asset: keynoteSim.key,
                    to: [.device(serials[0]), .device(serials[0])]
                )
            }
            await #expect(throws: AccessDenied.self) {
                _ = try await assign(world.reader, asset: keynoteSim.key, to: [.device(serials[0])])
            }
            let rows = try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.assignments(AssignmentQuery())
            }
            #expect(rows.isEmpty)
            let counts = try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.counts(tokenID: nil)
            }
            #expect(counts.filter { $0.asset == keynoteSim.key }.map(\.counts.available).reduce(0, +) == 7)
        }
    }

    @Test("a failed Apple event releases exactly the failed reservations and says why", arguments: StoreKind.allCases)
    func failedEvent(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (fileA, uid) = try await world.location("A", assets: [keynoteSim])
            _ = try await world.useCases.uploadToken(world.admin, file: fileA)
            let serials = try await world.addDevices(5)
            // Someone uses 3 of the 5 licences in Apple Business Manager behind our back, after our sync.
            try await world.simulator.seedAssignments(
                adamId: "408709785",
                serialNumbers: ["OTHER0001", "OTHER0002", "OTHER0003"],
                at: uid
            )
            let assign = world.useCases.assignLicences.polling(firstAfter: 0)
            _ = try await assign(world.admin, asset: keynoteSim.key, to: serials.prefix(4).map { .device($0) })
            try await world.settleEvents()
            let rows = try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.assignments(AssignmentQuery(states: [.active, .failed]))
            }
            #expect(rows.filter { $0.state == .active }.count == 2)
            let failed = rows.filter { if case .failed = $0.state { true } else { false } }
            #expect(failed.count == 2)
            if case .failed(let reason) = failed.first?.state { #expect(reason.contains("9709")) }
            let counts = try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.counts(tokenID: nil)
            }
            #expect(counts.first?.counts.available == 3, "the two failed reservations went back")
            let drift = try await world.useCases.reports.drift(world.reader)
            #expect(drift.filter { $0.kind == .failed }.count == 2)
            #expect(
                drift.filter { $0.kind == .orphaned }.map(\.assignee).sorted() == [
                    "OTHER0001", "OTHER0002", "OTHER0003",
                ]
            )
        }
    }

    @Test("revoke returns licences to the pool and removes the app where installed", arguments: StoreKind.allCases)
    func revoke(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (_, _, serials) = try await pooledWorld(world)
            let assign = world.useCases.assignLicences.polling(firstAfter: 0)
            _ = try await assign(world.admin, asset: keynoteSim.key, to: [.device(serials[0]), .device(serials[1])])
            try await world.settleEvents()
            let revoke = world.useCases.revokeLicences.polling(firstAfter: 0)
            await #expect(throws: UseCaseError.notLicensed([serials[5].value])) {
                _ = try await revoke(world.admin, asset: keynoteSim.key, from: [.device(serials[5])])
            }
            _ = try await revoke(world.admin, asset: keynoteSim.key, from: [.device(serials[0])])
            try await world.settleEvents()
            let commands = try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.deviceCommands()
            }
            #expect(commands.filter { $0.kind == .removeApplication }.map(\.serialNumber) == [serials[0].value])
            let pool = try await world.useCases.reports.licences(world.reader).first {
                $0.adamID == "408709785" && $0.location == "(pool)"
            }
            #expect(pool?.available == 6)
        }
    }

    @Test("retired devices give their licences back in bulk", arguments: StoreKind.allCases)
    func reclaimRetired(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (_, _, serials) = try await pooledWorld(world)
            let assign = world.useCases.assignLicences.polling(firstAfter: 0)
            _ = try await assign(world.admin, asset: keynoteSim.key, to: serials.prefix(3).map { .device($0) })
            try await world.settleEvents()
            try await world.useCases.manageInventory.addDevices(
                world.admin,
                serials.prefix(2).map {
                    Device(
                        tenantID: world.tenant.id,
                        serialNumber: $0,
                        installedAdamIDs: ["408709785"],
                        isRetired: true
                    )
                }
            )
            #expect(try await world.useCases.revokeLicences.reclaimRetired(world.admin) == 2)
            try await world.settleEvents()
            let active = try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.assignments(AssignmentQuery(states: [.active]))
            }
            #expect(active.map(\.assignee) == [.device(serials[2])])
            #expect(try await world.useCases.revokeLicences.reclaimRetired(world.admin) == 0)
        }
    }

    @Test("users are registered with Apple and take user licences (books)", arguments: StoreKind.allCases)
    func userLicences(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            _ = try await pooledWorld(world)
            let user = try ManagedUser(
                tenantID: world.tenant.id,
                clientUserID: ClientUserID("ana-1"),
                email: "ana@acme.example"
            )
            try await world.useCases.manageInventory.addUsers(world.admin, [user])
            try await Task.sleep(for: .milliseconds(50))
            let assign = world.useCases.assignLicences.polling(firstAfter: 0)
            _ = try await assign(world.admin, asset: bookSim.key, to: [.user(user.clientUserID)])
            try await world.settleEvents()
            let rows = try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.assignments(AssignmentQuery(asset: bookSim.key))
            }
            #expect(rows.map(\.state) == [.active])
        }
    }

    @Test(
        "incremental sync picks up what changed at Apple; the webhook checks the bearer and drops duplicates",
        arguments: StoreKind.allCases
    )
    func incrementalAndWebhook(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (file, uid) = try await world.location("A", assets: [keynoteSim])
            let token = try #require(try await world.useCases.uploadToken(world.admin, file: file).token)
            try await world.simulator.seedAssignments(adamId: "408709785", serialNumbers: ["NEWONE0001"], at: uid)
            let report = try await world.useCases.syncToken(world.admin, tokenID: token.id)
            #expect(report.incremental && report.assignmentsFromApple == 1 && report.inserted == 1)

            let secret = try world.ports.secrets.seal("hook-secret")
            try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.setNotificationSecret(token.id, secret: secret)
            }
            let handle = world.useCases.handleAppleNotification
            let body = AppleNotification(
                id: "n-1",
                type: "ASSET_COUNT",
                kind: .assetCount(AssetCountChange(asset: AssetKey(adamID: "408709785"), delta: 5))
            )
            await #expect(throws: UseCaseError.unauthorised) {
                _ = try await handle(
                    tenantID: world.tenant.id,
                    tokenID: token.id,
                    authorization: "Bearer wrong",
                    notification: body
                )
            }
            #expect(
                try await handle(
                    tenantID: world.tenant.id,
                    tokenID: token.id,
                    authorization: "Bearer hook-secret",
                    notification: body
                )
                    == .handled("ASSET_COUNT")
            )
            let afterPurchase = try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.counts(tokenID: token.id)
            }
            #expect(
                afterPurchase.first?.counts.total == 10 && afterPurchase.first?.counts.available == 9,
                "5 bought: the delta applies at once"
            )
            #expect(
                try await handle(
                    tenantID: world.tenant.id,
                    tokenID: token.id,
                    authorization: "Bearer hook-secret",
                    notification: body
                )
                    == .duplicate
            )
            let odd = AppleNotification(id: "n-2", type: "UNLIMITED_ASSET", kind: .other)
            #expect(
                try await handle(
                    tenantID: world.tenant.id,
                    tokenID: token.id,
                    authorization: "Bearer hook-secret",
                    notification: odd
                )
                    == .recordedUnknown("UNLIMITED_ASSET")
            )
        }
    }

    @Test("one sync per token at a time, whatever server asks", arguments: StoreKind.allCases)
    func oneSyncAtATime(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (file, _) = try await world.location("A", assets: [keynoteSim])
            let token = try #require(
                try await world.useCases.uploadToken(world.admin, file: file, syncNow: false).token
            )
            await world.simulator.injectFault(
                SimulatorFault(kind: .slow, count: 1, pathContains: "assets?", delayMilliseconds: 1500)
            )
            async let first = world.useCases.syncToken(world.admin, tokenID: token.id)
            // Wait until the first sync holds its lease and is inside Apple's slow answer.
            for _ in 0..<500 where await world.simulator.requestCount("assets") < 1 {
                try await Task.sleep(for: .milliseconds(5))
            }
            await #expect(throws: UseCaseError.syncInProgress(location: "A")) {
                _ = try await world.useCases.syncToken(world.admin, tokenID: token.id)
            }
            _ = try await first
            _ = try await world.useCases.syncToken(world.admin, tokenID: token.id)
        }
    }
}

extension SimAsset {
    var key: AssetKey { AssetKey(adamID: adamId) }
}

@Suite("A token claimed elsewhere later is noticed on any Apple answer")
struct ClaimedLaterTests {
    @Test(
        """
        an assignment meets a foreign mdmInfo: the token turns in-use-elsewhere, the reservation is released, \
        nothing more is granted
        """,
        arguments: StoreKind.allCases
    )
    func claimedDuringAssignment(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (file, uid) = try await world.location("A", assets: [keynoteSim])
            _ = try await world.useCases.uploadToken(world.admin, file: file)
            let serials = try await world.addDevices(2)
            try await world.simulator.setMDMInfo(
                SimMDMInfo(id: "jamf-42", name: "Jamf Pro", metadata: "jss.example.org"),
                at: uid
            )
            await #expect(throws: AppleAPIError.self) {
                _ = try await world.useCases.assignLicences(
                    world.admin,
                    asset: keynoteSim.key,
                    to: [.device(serials[0])]
                )
            }
            let overview = try await world.useCases.listTokens(world.reader)
            #expect(
                overview.first?.status.code == "in_use_elsewhere"
                    && overview.first?.nextStep.contains("Jamf Pro") == true
            )
            let counts = try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.counts(tokenID: nil)
            }
            #expect(counts.first?.counts.available == 5, "the reservation went back")
            await #expect(throws: LicenceError.self) {
                _ = try await world.useCases.assignLicences(
                    world.admin,
                    asset: keynoteSim.key,
                    to: [.device(serials[1])]
                )
            }
            #expect(await world.simulator.snapshot(of: uid)?.assignmentCount == 0)
        }
    }
}
