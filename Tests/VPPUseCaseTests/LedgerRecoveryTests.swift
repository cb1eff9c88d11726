import Foundation
import Testing
import VPPAppleSimulator
import VPPDomain
import VPPTestSupport

@testable import VPPUseCases

/// The ledger's durable intents: what a dead worker leaves behind is resumed by another, Apple is asked
/// before anything is sent twice, every confirmed licence gets exactly one install, requests that arrive
/// together go to Apple together, and a revoke of a licence Apple has not settled is carried out once it is.
@Suite("Ledger: durable Apple intents, recovery, batching, exactly one install")
struct LedgerRecoveryTests {
    func world(_ world: World, devices: Int = 6) async throws -> (ContentToken, [SerialNumber], String) {
        let (file, uid) = try await world.location(
            "A",
            assets: [SimAsset(adamId: "408709785", totalCount: 40, name: "Keynote")]
        )
        let token = try #require(try await world.useCases.uploadToken(world.admin, file: file).token)
        return (token, try await world.addDevices(devices), uid)
    }

    func rows(_ world: World) async throws -> [Assignment] {
        try await world.store.inTenant(world.tenant.id) { tx in try await tx.assignments(AssignmentQuery()) }
    }

    func installs(_ world: World) async throws -> [DeviceCommand] {
        try await world.store.inTenant(world.tenant.id) { tx in try await tx.deviceCommands() }
            .filter { $0.kind == .installApplication }
    }

    @Test(
        "a worker that died after Apple accepted: resumed after its lease, Apple asked first, one install each",
        arguments: StoreKind.allCases
    )
    func diedAfterApple(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (token, serials, _) = try await self.world(world)
            let key = AssetKey(adamID: "408709785")
            // Reserve as a request does, then play a worker that claims, reaches Apple, and dies before recording.
            let reserved = serials.prefix(4).map {
                Assignment(tenantID: world.tenant.id, asset: key, assignee: .device($0), grantingToken: token.id)
            }
            let ok = try await world.store.inTenant(world.tenant.id) { tx in try await tx.reserveLicences(reserved) }
            #expect(ok)
            let now = world.clock.now()
            let claimed = try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.claimIntents(
                    tokenID: token.id,
                    asset: key,
                    state: .reserved,
                    owner: "dead",
                    now: now,
                    until: now.addingTimeInterval(30),
                    limit: 1000
                )
            }
            #expect(claimed.count == 4)
            let credentials = try await world.useCases.tokenCredentials.open(world.tenant.id, token.id)
            _ = try await world.ports.apple.associate(
                credentials,
                assets: [key],
                serialNumbers: serials.prefix(4).map(\.value),
                clientUserIDs: []
            )
            try await Task.sleep(for: .milliseconds(50))  // the simulator carries the event out
            let associateCalls = await world.simulator.requestCount("assets/associate")
            // While the claim lasts nobody else touches them.
            #expect(await world.useCases.carryOutAppleIntents.runDue() == 0)
            world.clock.advance(days: 31.0 / 86_400)
            #expect(await world.useCases.carryOutAppleIntents.runDue() == 1)
            let after = try await rows(world)
            #expect(after.count == 4 && after.allSatisfy { $0.state == .active }, "\(after.map(\.state))")
            #expect(
                await world.simulator.requestCount("assets/associate") == associateCalls,
                "nothing associated twice"
            )
            let commands = try await installs(world)
            #expect(commands.count == 4 && Set(commands.map(\.serialNumber)).count == 4)
            // A sync and a late event that learn the same thing add no second install.
            _ = try await world.useCases.syncToken(world.admin, tokenID: token.id)
            try await world.settleEvents()
            #expect(try await installs(world).count == 4)
            let counts = try await world.store.inTenant(world.tenant.id) { tx in try await tx.counts(tokenID: token.id)
            }
            #expect(counts.first?.counts.assigned == 4 && counts.first?.counts.available == 36)
            print("ledger recovery: intents of a dead worker resumed after its lease (30 s here) plus one worker pass")
        }
    }

    @Test(
        "a recovered intent reads Apple's answer: a record of another device (a filter Apple ignored) is no licence",
        arguments: StoreKind.allCases
    )
    func filteredAnswerIsRead(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (token, serials, uid) = try await self.world(world)
            let key = AssetKey(adamID: "408709785")
            // Device 5 holds the app at Apple already; device 0's intent was claimed by a worker that died
            // before it sent anything.
            let credentials = try await world.useCases.tokenCredentials.open(world.tenant.id, token.id)
            _ = try await world.ports.apple.associate(
                credentials,
                assets: [key],
                serialNumbers: [serials[5].value],
                clientUserIDs: []
            )
            try await Task.sleep(for: .milliseconds(50))
            let reserved = [
                Assignment(
                    tenantID: world.tenant.id,
                    asset: key,
                    assignee: .device(serials[0]),
                    grantingToken: token.id
                )
            ]
            #expect(try await world.store.inTenant(world.tenant.id) { tx in try await tx.reserveLicences(reserved) })
            let now = world.clock.now()
            _ = try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.claimIntents(
                    tokenID: token.id,
                    asset: key,
                    state: .reserved,
                    owner: "dead",
                    now: now,
                    until: now.addingTimeInterval(30),
                    limit: 1000
                )
            }
            world.clock.advance(days: 31.0 / 86_400)
            // Apple's answer to "does device 0 hold it?" lists every assignment: device 5's.
            await world.simulator.injectFault(
                SimulatorFault(kind: .ignoresFilters, count: 5, pathContains: "serialNumber=")
            )
            let before = await world.simulator.requestCount("assets/associate")
            let intents = world.useCases.carryOutAppleIntents.polling(firstAfter: 0)
            #expect(await intents.runDue() == 1)
            #expect(
                await world.simulator.requestCount("assets/associate") == before + 1,
                "device 0 does not hold the app at Apple: it is associated, not assumed"
            )
            try await world.settleEvents()
            let snapshot = await world.simulator.snapshot(of: uid)
            #expect(snapshot?.assignedByAsset["408709785/STDQ"] == 2, "Apple holds devices 5 and 0")
            #expect(try await rows(world).allSatisfy { $0.state == .active })
        }
    }

    @Test(
        "a worker that died before sending: resumed, asked Apple, sent once; the pool is exact",
        arguments: StoreKind.allCases
    )
    func diedBeforeApple(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (token, serials, _) = try await self.world(world)
            let key = AssetKey(adamID: "408709785")
            let reserved = serials.prefix(3).map {
                Assignment(tenantID: world.tenant.id, asset: key, assignee: .device($0), grantingToken: token.id)
            }
            let ok = try await world.store.inTenant(world.tenant.id) { tx in try await tx.reserveLicences(reserved) }
            #expect(ok)
            let now = world.clock.now()
            _ = try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.claimIntents(
                    tokenID: token.id,
                    asset: key,
                    state: .reserved,
                    owner: "dead",
                    now: now,
                    until: now.addingTimeInterval(30),
                    limit: 1000
                )
            }
            let before = await world.simulator.requestCount("assets/associate")
            world.clock.advance(days: 31.0 / 86_400)
            let intents = world.useCases.carryOutAppleIntents.polling(firstAfter: 0)
            #expect(await intents.runDue() == 1)
            #expect(await world.simulator.requestCount("assets/associate") == before + 1)
            try await world.settleEvents()
            #expect(try await rows(world).allSatisfy { $0.state == .active })
            #expect(try await installs(world).count == 3)
        }
    }

    @Test(
        "30 single-device requests arriving together reach Apple in a few batched calls",
        arguments: StoreKind.allCases
    )
    func batching(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (_, serials, _) = try await self.world(world, devices: 30)
            await world.simulator.resetRequestCounts()
            let key = AssetKey(adamID: "408709785")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for serial in serials {
                    group.addTask {
                        let assign = world.useCases.assignLicences.polling(firstAfter: 0)
                        let outcome = try await assign(world.admin, asset: key, to: [.device(serial)])
                        #expect(outcome.licences.count == 1 && outcome.licences.allSatisfy { $0.state != .reserved })
                    }
                }
                try await group.waitForAll()
            }
            let calls = await world.simulator.requestCount("assets/associate")
            print("ledger batching: 30 concurrent single-device requests -> \(calls) associate call(s)")
            #expect(calls < 30 && calls >= 1)
            let attempts = try await world.sut.raw("SELECT max(send_attempts) AS n FROM assignments").first?.decode(
                "n",
                as: Int.self
            )
            #expect(attempts == 1, "each intent was claimed and sent once")
            try await world.settleEvents()
            #expect(try await installs(world).count == 30)
        }
    }

    @Test(
        "revoking a licence Apple has not settled is accepted and carried out once it settles",
        arguments: StoreKind.allCases
    )
    func revokePending(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (token, serials, _) = try await self.world(world)
            let key = AssetKey(adamID: "408709785")
            await world.simulator.updateSettings { $0.eventDelayMilliseconds = 400 }
            let assign = world.useCases.assignLicences.polling(firstAfter: 0)
            _ = try await assign(world.admin, asset: key, to: [.device(serials[0]), .device(serials[1])])
            let revoke = world.useCases.revokeLicences.polling(firstAfter: 0)
            let outcome = try await revoke(world.admin, asset: key, from: [.device(serials[0])])
            #expect(outcome.afterAssignmentSettles == [.device(serials[0])] && outcome.revoking.isEmpty)
            await world.simulator.updateSettings { $0.eventDelayMilliseconds = 5 }
            try await Task.sleep(for: .milliseconds(600))
            try await world.settleEvents()
            let intents = world.useCases.carryOutAppleIntents.polling(firstAfter: 0)
            await intents.runDue()
            try await Task.sleep(for: .milliseconds(50))
            try await world.settleEvents()
            let after = try await rows(world)
            #expect(after.first { $0.assignee == .device(serials[0]) }?.state == .revoked)
            #expect(after.first { $0.assignee == .device(serials[1]) }?.state == .active)
            #expect(
                try await installs(world).map(\.serialNumber) == [serials[1].value],
                "no install for the revoked one"
            )
            let counts = try await world.store.inTenant(world.tenant.id) { tx in try await tx.counts(tokenID: token.id)
            }
            #expect(counts.first?.counts.assigned == 1)
        }
    }

    /// Apple's client whose `associate` reaches Apple and then meets a database failure (as the shared request
    /// limiter's, or the recording of Apple's answer, would during a failover).
    struct DatabaseFailsAfterAssociate: AppleAppsAndBooks {
        let apple: any AppleAppsAndBooks

        func serviceLimits() async throws -> AppleServiceLimits { try await apple.serviceLimits() }
        func clientConfig(_ c: AppleCredentials) async throws -> AppleLocationConfig {
            try await apple.clientConfig(c)
        }
        func updateClientConfig(
            _ c: AppleCredentials,
            holder: HolderIdentity?,
            notifications: AppleNotificationSettings?
        ) async throws -> AppleLocationConfig {
            try await apple.updateClientConfig(c, holder: holder, notifications: notifications)
        }
        func assets(_ c: AppleCredentials, filter: AppleAssetFilter) async throws -> AppleWalk<AppleAssetRecord> {
            try await apple.assets(c, filter: filter)
        }
        func assignments(
            _ c: AppleCredentials,
            filter: AppleAssignmentFilter
        ) async throws -> AppleWalk<AppleAssignmentRecord> {
            try await apple.assignments(c, filter: filter)
        }
        func streamAssignments(
            _ c: AppleCredentials,
            filter: AppleAssignmentFilter,
            restart: @Sendable () async throws -> Void,
            page: @Sendable ([AppleAssignmentRecord]) async throws -> Void
        ) async throws -> AppleWalk<AppleAssignmentRecord> {
            try await apple.streamAssignments(c, filter: filter, restart: restart, page: page)
        }
        func associate(
            _ c: AppleCredentials,
            assets: [AssetKey],
            serialNumbers: [String],
            clientUserIDs: [String]
        ) async throws -> [AppleEventTicket] {
            _ = try await apple.associate(c, assets: assets, serialNumbers: serialNumbers, clientUserIDs: clientUserIDs)
            throw StoreError.unavailable("connection to the database lost")
        }
        func disassociate(
            _ c: AppleCredentials,
            assets: [AssetKey],
            serialNumbers: [String],
            clientUserIDs: [String]
        ) async throws -> [AppleEventTicket] {
            try await apple.disassociate(c, assets: assets, serialNumbers: serialNumbers, clientUserIDs: clientUserIDs)
        }
        func revoke(
            _ c: AppleCredentials,
            serialNumbers: [String],
            clientUserIDs: [String]
        ) async throws -> [AppleEventTicket] {
            try await apple.revoke(c, serialNumbers: serialNumbers, clientUserIDs: clientUserIDs)
        }
        func eventStatus(_ c: AppleCredentials, eventID: String) async throws -> AppleEventStatus {
            try await apple.eventStatus(c, eventID: eventID)
        }
        func users(_ c: AppleCredentials, filter: AppleUserFilter) async throws -> AppleWalk<AppleUserRecord> {
            try await apple.users(c, filter: filter)
        }
        func createUsers(_ c: AppleCredentials, _ users: [AppleUserRequest]) async throws -> [AppleEventTicket] {
            try await apple.createUsers(c, users)
        }
        func updateUsers(_ c: AppleCredentials, _ users: [AppleUserRequest]) async throws -> [AppleEventTicket] {
            try await apple.updateUsers(c, users)
        }
        func retireUsers(_ c: AppleCredentials, clientUserIDs: [String]) async throws -> [AppleEventTicket] {
            try await apple.retireUsers(c, clientUserIDs: clientUserIDs)
        }
    }

    @Test(
        "a database failure after Apple accepted is not Apple refusing: nothing failed, recovered after the claim",
        arguments: StoreKind.allCases
    )
    func databaseFailedAfterApple(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (token, serials, _) = try await self.world(world)
            let key = AssetKey(adamID: "408709785")
            let reserved = serials.prefix(4).map {
                Assignment(tenantID: world.tenant.id, asset: key, assignee: .device($0), grantingToken: token.id)
            }
            #expect(try await world.store.inTenant(world.tenant.id) { tx in try await tx.reserveLicences(reserved) })
            let failing = CarryOutAppleIntents(
                store: world.store,
                clock: world.clock,
                apple: DatabaseFailsAfterAssociate(apple: world.ports.apple),
                logger: world.ports.logger,
                tokenCredentials: world.useCases.tokenCredentials,
                health: world.useCases.tokenHealth,
                leaseSeconds: 30
            )
            #expect(await failing.runDue() == 1)
            try await Task.sleep(for: .milliseconds(50))  // the simulator carries the event out
            let associateCalls = await world.simulator.requestCount("assets/associate")
            #expect(associateCalls >= 1)
            let left = try await rows(world)
            #expect(left.allSatisfy { $0.state == .reserved }, "left to the claim, never failed: \(left.map(\.state))")

            world.clock.advance(days: 31.0 / 86_400)
            #expect(await world.useCases.carryOutAppleIntents.runDue() == 1)
            let after = try await rows(world)
            #expect(after.count == 4 && after.allSatisfy { $0.state == .active }, "\(after.map(\.state))")
            #expect(
                await world.simulator.requestCount("assets/associate") == associateCalls,
                "nothing associated twice"
            )
            #expect(try await installs(world).count == 4)
        }
    }
}
