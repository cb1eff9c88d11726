import Foundation
import Testing
import VPPAppleSimulator
import VPPDomain
import VPPTestSupport
import VPPUseCases

/// A sync holds a short lease renewed by a heartbeat: a long sync keeps it, a dead server's lease frees
/// within the lease, and a sync that lost its lease stops without committing.
@Suite("A sync's lease: short, renewed while the sync runs")
struct SyncLeaseTests {
    /// Uploads one token without syncing it and makes Apple's next asset answer take `slowMilliseconds`.
    func slowToken(_ world: World, slowMilliseconds: Int) async throws -> ContentToken {
        let (file, _) = try await world.location("A", assets: [SimAsset(adamId: "408709785", totalCount: 5)])
        let token = try #require(
            try await world.useCases.uploadToken(world.admin, file: file, syncNow: false).token
        )
        await world.simulator.injectFault(
            SimulatorFault(kind: .slow, count: 1, pathContains: "assets?", delayMilliseconds: slowMilliseconds)
        )
        return token
    }

    /// Starts a sync whose lease lasts 0.6 s while Apple takes `slowMilliseconds` to answer, and returns once
    /// the sync holds its lease and is inside Apple's slow answer.
    func startLongSync(
        _ world: World,
        slowMilliseconds: Int
    ) async throws -> (ContentToken, Task<SyncReport, any Error>) {
        let token = try await slowToken(world, slowMilliseconds: slowMilliseconds)
        let sync = world.useCases.syncToken.leased(for: 0.6)
        let running = Task { [sync] in try await sync(world.admin, tokenID: token.id) }
        for _ in 0..<500 where await world.simulator.requestCount("assets") < 1 {
            try await Task.sleep(for: .milliseconds(5))
        }
        return (token, running)
    }

    @Test("a sync longer than its lease keeps it: the heartbeat renews it", arguments: StoreKind.allCases)
    func heartbeatKeepsLease(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (token, first) = try await startLongSync(world, slowMilliseconds: 3_000)
            // Twice the lease passes; without renewal another server could now take the token's sync.
            world.clock.advance(days: 1.2 / 86_400)
            try await Task.sleep(for: .milliseconds(500))
            await #expect(throws: UseCaseError.syncInProgress(location: "A")) {
                _ = try await world.useCases.syncToken(world.admin, tokenID: token.id)
            }
            #expect(try await first.value.assets == 1)
        }
    }

    @Test("a server killed mid-sync blocks the token's syncs for one lease, not longer", arguments: StoreKind.allCases)
    func deadHolderFreesWithinLease(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let token = try await slowToken(world, slowMilliseconds: 0)
            let sync = world.useCases.syncToken
            // A holder that will never renew or release: a killed server.
            let taken = try await world.store.acquireLease(
                tenant: world.tenant.id,
                name: "sync:\(token.id)",
                owner: "killed-server",
                now: world.clock.now(),
                ttl: sync.leaseSeconds
            )
            #expect(taken)
            await #expect(throws: UseCaseError.syncInProgress(location: "A")) {
                _ = try await sync(world.admin, tokenID: token.id)
            }
            world.clock.advance(days: (sync.leaseSeconds + 1) / 86_400)
            #expect(try await sync(world.admin, tokenID: token.id).assets == 1)
            #expect(sync.leaseSeconds <= 60, "a killed server blocks syncs at most a minute")
        }
    }

    @Test("a sync whose lease was taken stops and commits nothing", arguments: StoreKind.allCases)
    func lostLeaseStopsSync(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (token, first) = try await startLongSync(world, slowMilliseconds: 3_000)
            // Another server takes the lease as if this one's had lapsed (its clock far ahead).
            let stolen = try await world.store.acquireLease(
                tenant: world.tenant.id,
                name: "sync:\(token.id)",
                owner: "other-server",
                now: world.clock.now().addingTimeInterval(3_600),
                ttl: 7_200
            )
            #expect(stolen)
            await #expect(throws: UseCaseError.syncInProgress(location: "A")) { _ = try await first.value }
            let state = try await world.store.inTenant(world.tenant.id) { tx in try await tx.syncState(token.id) }
            #expect(state?.lastSuccessAt == nil, "the sync that lost its lease committed nothing")
            let apps = try await world.store.inTenant(world.tenant.id) { tx in try await tx.counts(tokenID: token.id) }
            #expect(apps.isEmpty)
        }
    }
}
