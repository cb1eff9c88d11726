import Foundation
import Testing
import VPPAppleSimulator
import VPPDomain
import VPPTestSupport

@testable import VPPUseCases

/// Scopes end to end with vppsim: a dry run changes nothing, licences follow the group, the waitlist drains
/// when licences are bought, and a device moving between two groups that scope the app keeps its licence.
@Suite("Desired state: scopes, waitlist, removal grace (vppsim, both databases)")
struct ScopeReconcileTests {
    static let key = AssetKey(adamID: "408709785")

    func heldAtApple(_ world: World, _ uid: String) async -> Int {
        await world.simulator.snapshot(of: uid)?.assignedByAsset["408709785/STDQ"] ?? -1
    }

    func drainJobs(_ world: World) async throws {
        let jobs = world.useCases(deliveries: NoDeliveries()).runDueJobs
        for _ in 0..<20 where !(await jobs(owner: "w", stopping: { false })).isEmpty {}
        try await world.settleEvents()
    }

    @Test(
        "12 devices, 8 licences: dry run, apply, members leave, licences bought, a device moves",
        arguments: StoreKind.allCases
    )
    func lifecycle(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (file, uid) = try await world.location(
                "A",
                assets: [SimAsset(adamId: "408709785", totalCount: 8, name: "Keynote")]
            )
            _ = try await world.useCases.uploadToken(world.admin, file: file)
            let serials = try await world.addDevices(12)
            let manage = world.reconcilingInline
            let ipads = try GroupName("ipads")
            _ = try await manage.putGroup(world.admin, ipads, members: serials.map(Assignee.device), dynamic: nil)
            let scope = try AppScope(
                name: ScopeName("keynote"),
                asset: Self.key,
                groups: [ipads],
                removalGraceSeconds: 0
            )

            let dry = try await manage.putScope(world.admin, scope, dryRun: true)
            #expect(dry.plan.add == 8 && dry.plan.wait == 4 && !dry.stored)
            #expect(await heldAtApple(world, uid) == 0, "a dry run sends nothing to Apple")
            #expect(try await manage.scopes(world.admin).isEmpty, "and stores nothing")

            _ = try await manage.putScope(world.admin, scope, dryRun: false)
            try await world.settleEvents()
            #expect(await heldAtApple(world, uid) == 8)
            var status = try await manage.scope(world.admin, scope.name)
            #expect(status.desired == 12 && status.licensed == 8 && status.waiting == 4)
            let waitlist = try await manage.waitlist(world.admin, scope.name, after: 0, limit: 100)
            #expect(waitlist.map(\.position) == [1, 2, 3, 4])
            let firstWaiting = waitlist.prefix(2).map(\.assignee)

            // Two licensed members leave (grace 0): revoked, and the first two waiting take their licences.
            let licensed = serials.map(Assignee.device).filter { !waitlist.map(\.assignee).contains($0) }
            _ = try await manage.editMembers(world.admin, ipads, adding: false, Array(licensed.prefix(2)))
            try await world.settleEvents()
            try await drainJobs(world)
            status = try await manage.scope(world.admin, scope.name)
            #expect(status.desired == 10 && status.licensed == 8 && status.waiting == 2, "\(status.plan)")
            let held = try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.assignments(AssignmentQuery(asset: Self.key, states: [.active]))
            }
            #expect(Set(firstWaiting).isSubset(of: Set(held.map(\.assignee))), "the first in the queue were served")
            #expect(await heldAtApple(world, uid) == 8)

            // Two more bought at Apple: the sync (or ASSET_COUNT) serves the rest without a click.
            try await world.simulator.upsertAsset(
                SimAsset(adamId: "408709785", totalCount: 10, name: "Keynote"),
                at: uid
            )
            let token = try await world.store.inTenant(world.tenant.id) { tx in try await tx.tokens() }.first!
            _ = try await world.useCases.syncToken(.system(world.tenant.id), tokenID: token.id)
            try await drainJobs(world)
            status = try await manage.scope(world.admin, scope.name)
            #expect(status.licensed == 10 && status.waiting == 0)
            #expect(await heldAtApple(world, uid) == 10)

            // A device moves from "ipads" to "lab", which also scopes the app: no disassociate at Apple.
            let lab = try GroupName("lab")
            _ = try await manage.putGroup(world.admin, lab, members: [], dynamic: nil)
            _ = try await manage.putScope(
                world.admin,
                try AppScope(name: ScopeName("lab-keynote"), asset: Self.key, groups: [lab]),
                dryRun: false
            )
            let mover = held.first!.assignee
            let before = await world.simulator.requestCount("assets/disassociate")
            _ = try await manage.editMembers(world.admin, lab, adding: true, [mover])
            _ = try await manage.editMembers(world.admin, ipads, adding: false, [mover])
            try await drainJobs(world)
            #expect(await world.simulator.requestCount("assets/disassociate") == before, "no flap at Apple")
            #expect(await heldAtApple(world, uid) == 10)
        }
    }

    @Test(
        "a retired device leaves its scope: after its grace the licence goes back and the next waiting is served",
        arguments: StoreKind.allCases
    )
    func retiredDeviceLeaves(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (file, uid) = try await world.location(
                "A",
                assets: [SimAsset(adamId: "408709785", totalCount: 2, name: "Keynote")]
            )
            _ = try await world.useCases.uploadToken(world.admin, file: file)
            let serials = try await world.addDevices(3)
            let manage = world.reconcilingInline
            _ = try await manage.putScope(
                world.admin,
                try AppScope(name: ScopeName("k"), asset: Self.key, serialNumbers: serials, removalGraceSeconds: 0),
                dryRun: false
            )
            try await world.settleEvents()
            try await drainJobs(world)  // what the upload queued (its sync would reconcile too)
            let waiting = try await manage.waitlist(world.admin, try ScopeName("k"), after: 0, limit: 10)
            #expect(waiting.count == 1)
            let retiree = serials.first { Assignee.device($0) != waiting.first?.assignee }!
            try await world.useCases.retireDevices(world.admin, [retiree])
            try await drainJobs(world)  // the retire queued a reconcile: revoke, then serve the waiting device
            try await drainJobs(world)
            let held = try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.assignments(AssignmentQuery(asset: Self.key, states: AssignmentState.Code.holding))
            }
            #expect(!held.contains { $0.assignee == .device(retiree) }, "the retired device's licence went back")
            #expect(held.contains { $0.assignee == waiting.first?.assignee }, "the waiting device was served")
            #expect(await heldAtApple(world, uid) == 2)
        }
    }

    @Test("licences granted outside any scope are left alone, and the plan says so", arguments: StoreKind.allCases)
    func unmanagedLeftAlone(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (file, uid) = try await world.location(
                "A",
                assets: [SimAsset(adamId: "408709785", totalCount: 5, name: "Keynote")]
            )
            _ = try await world.useCases.uploadToken(world.admin, file: file)
            let serials = try await world.addDevices(3)
            _ = try await world.useCases.assignLicences(
                world.admin,
                asset: Self.key,
                to: [.device(serials[2])]
            )
            try await world.settleEvents()
            let manage = world.reconcilingInline
            let change = try await manage.putScope(
                world.admin,
                try AppScope(name: ScopeName("two"), asset: Self.key, serialNumbers: [serials[0], serials[1]]),
                dryRun: false
            )
            #expect(change.plan.add == 2 && change.plan.unmanaged == 1)
            _ = try await manage.deleteScope(world.admin, try ScopeName("two"), dryRun: false)
            // Default grace (a day): still held; a day later the two scoped licences go, the third stays.
            try await drainJobs(world)
            #expect(await heldAtApple(world, uid) == 3)
            world.clock.advance(days: 1.01)
            try await world.useCases.reconcileScopes(world.tenant.id)
            try await world.settleEvents()
            #expect(await heldAtApple(world, uid) == 1, "only the imperative licence is left")
        }
    }
}

@Suite("Licence alerts: one notice per crossing, re-armed above the level (both databases)")
struct LicenceAlertTests {
    @Test(
        "8 licences, alert below 5, a scope of 6: one e-mail, not two; back above the level, it re-arms",
        arguments: StoreKind.allCases
    )
    func oncePerCrossing(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (file, uid) = try await world.location(
                "A",
                assets: [SimAsset(adamId: "408709785", totalCount: 8, name: "Keynote")]
            )
            _ = try await world.useCases.uploadToken(
                world.admin,
                file: file,
                noticeRecipients: ["it@school.example"]
            )
            let serials = try await world.addDevices(6)
            let key = AssetKey(adamID: "408709785")
            _ = try await world.useCases.appForecast.setAlert(world.admin, key, below: 5, belowPercent: nil)
            let manage = world.reconcilingInline
            _ = try await manage.putScope(
                world.admin,
                try AppScope(name: ScopeName("k"), asset: key, serialNumbers: serials),
                dryRun: false
            )
            try await world.settleEvents()
            // A second pass (another server, the sweep) finds the crossing recorded: no second notice.
            try await world.useCases.reconcileScopes(world.tenant.id)
            let low = try await world.store.inTenant(world.tenant.id) { tx in try await tx.notices() }
                .filter { $0.kind == .licencesLow }
            #expect(low.count == 1, "\(low.map(\.subject))")
            #expect(low.first?.body.contains("Keynote: 2 left (alert below 5)") == true, "\(low.first?.body ?? "")")
            let forecast = try await world.useCases.appForecast(world.admin, key, waiting: 0)
            #expect(forecast.available == 2 && forecast.belowAlert)
            // Bought 10 more: above the level, the alert re-arms (crossed_at cleared).
            try await world.simulator.upsertAsset(
                SimAsset(adamId: "408709785", totalCount: 18, name: "Keynote"),
                at: uid
            )
            let token = try await world.store.inTenant(world.tenant.id) { tx in try await tx.tokens() }.first!
            _ = try await world.useCases.syncToken(.system(world.tenant.id), tokenID: token.id)
            try await world.useCases.reconcileScopes(world.tenant.id)
            let alert = try await world.store.inTenant(world.tenant.id) { tx in try await tx.alert(key) }
            #expect(alert?.crossedAt == nil)
        }
    }
}

/// The reconciler against a reference model: random interleavings of group edits, purchases and revokes, with
/// two reconcilers (two servers) running at once after each step; Apple (vppsim) is checked after every step.
@Suite("Desired state: random interleavings against a reference model (vppsim, both databases)")
struct ScopeModelTests {
    @Test(
        "Apple holds min(desired, pool) by priority, only desired devices, nobody flaps, the waitlist drains",
        arguments: StoreKind.allCases
    )
    func randomInterleavings(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            var generator = SystemRandomNumberGenerator()
            var total = Int.random(in: 3...6, using: &generator)
            let (file, uid) = try await world.location(
                "A",
                assets: [SimAsset(adamId: "408709785", totalCount: total, name: "Keynote")]
            )
            _ = try await world.useCases.uploadToken(world.admin, file: file)
            let token = try await world.store.inTenant(world.tenant.id) { tx in try await tx.tokens() }.first!
            let serials = try await world.addDevices(12)
            let key = AssetKey(adamID: "408709785")
            let manage = world.reconcilingInline
            let (low, high) = (try GroupName("low"), try GroupName("high"))
            var members: [GroupName: Set<SerialNumber>] = [low: [], high: []]
            _ = try await manage.putGroup(world.admin, low, members: [], dynamic: nil)
            _ = try await manage.putGroup(world.admin, high, members: [], dynamic: nil)
            for (name, group, priority) in [("low-k", low, 0), ("high-k", high, 10)] {
                _ = try await manage.putScope(
                    world.admin,
                    try AppScope(
                        name: ScopeName(name),
                        asset: key,
                        groups: [group],
                        priority: priority,
                        removalGraceSeconds: 0
                    ),
                    dryRun: false
                )
            }
            // Revokes the model allows: a licensed device that left every group.
            var allowedRevokes = 0
            var heldBefore = Set<SerialNumber>()
            for step in 0..<14 {
                let desiredBefore = members[low]!.union(members[high]!)
                switch Int.random(in: 0..<4, using: &generator) {
                case 0, 1:  // a group edit: add or remove a few members
                    let group = Bool.random(using: &generator) ? low : high
                    let pick = Set(serials.shuffled(using: &generator).prefix(Int.random(in: 1...3, using: &generator)))
                    let adding = Bool.random(using: &generator) || members[group]!.isEmpty
                    let change = adding ? pick.subtracting(members[group]!) : pick.intersection(members[group]!)
                    guard !change.isEmpty else { continue }
                    _ = try await manage.editMembers(
                        world.admin,
                        group,
                        adding: adding,
                        change.sorted().map(Assignee.device)
                    )
                    if adding { members[group]!.formUnion(change) } else { members[group]!.subtract(change) }
                default:  // a purchase at Apple, then a sync
                    total += Int.random(in: 1...2, using: &generator)
                    try await world.simulator.upsertAsset(
                        SimAsset(adamId: "408709785", totalCount: total, name: "Keynote"),
                        at: uid
                    )
                    _ = try await world.useCases.syncToken(.system(world.tenant.id), tokenID: token.id)
                }
                let left = desiredBefore.subtracting(members[low]!.union(members[high]!))
                allowedRevokes += left.intersection(heldBefore).count
                // A group edit reconciled its changed members already (in the edit); what follows is what the
                // servers do on their own: Apple settles, and the jobs its answers queue (a freed licence, a sync)
                // run on two servers at once.
                for _ in 0..<3 {
                    try await world.settleEvents()
                    let jobs = world.useCases(deliveries: NoDeliveries()).runDueJobs
                    async let first = jobs(owner: "server-a", stopping: { false })
                    async let second = jobs(owner: "server-b", stopping: { false })
                    _ = await (first, second)
                }
                try await world.settleEvents()
                // The reference model: the desired set, served by priority up to the pool.
                let desired = members[low]!.union(members[high]!)
                let held = try await world.store.inTenant(world.tenant.id) { tx in
                    try await tx.assignments(AssignmentQuery(asset: key, states: AssignmentState.Code.holding))
                }
                let heldSerials = Set(held.compactMap { if case .device(let s) = $0.assignee { s } else { nil } })
                #expect(heldSerials.isSubset(of: desired), "step \(step): only desired devices hold a licence")
                #expect(heldSerials.count == min(desired.count, total), "step \(step): the pool is used up to demand")
                let atApple = await world.simulator.snapshot(of: uid)?.assignedByAsset["408709785/STDQ"] ?? -1
                #expect(atApple == heldSerials.count, "step \(step): Apple holds what vpp holds")
                // Priority: licences held are kept (no pre-emption), but none goes newly to a low-only device while
                // a high-priority device waits.
                let highWaiting = members[high]!.subtracting(heldSerials)
                let newlyLowOnly = heldSerials.subtracting(heldBefore).subtracting(members[high]!)
                #expect(highWaiting.isEmpty || newlyLowOnly.isEmpty, "step \(step): higher priority is served first")
                heldBefore = heldSerials
            }
            // No flap: every revoke was of a licensed device that left every group (never one still desired).
            let revokes = try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.assignments(AssignmentQuery(asset: key, states: [.revoked]))
            }
            #expect(revokes.count <= allowedRevokes, "\(revokes.count) revokes, \(allowedRevokes) left their groups")
        }
    }
}
