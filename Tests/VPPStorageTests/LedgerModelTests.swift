import Foundation
import Testing
import VPPDomain
import VPPSQLStore
import VPPTestSupport
import VPPUseCases

/// The licence ledger against a reference model: seeded random interleavings of every movement (reserve,
/// send, confirm, fail, queue and confirm revokes, sync snapshots, ASSET_COUNT deltas) alternating between
/// two store instances (two servers). After every step the store equals the model and the invariants hold.
@Suite("Ledger: random interleavings against a reference model, and races with syncs")
struct LedgerModelTests {
    /// What the reference model knows: Apple's total and withheld count, each device's state, Apple's truth.
    struct Model {
        var total: Int
        var withheld = 0
        var states: [Int: AssignmentState.Code] = [:]
        var rowIDs: [Int: AssignmentID] = [:]
        /// Devices Apple holds a licence for (ours once settled, and some assigned outside vpp).
        var appleHolds = Set<Int>()

        var held: Int { states.values.filter(\.holdsLicence).count }
        var available: Int { max(0, total - withheld - held) }
    }

    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let devices = 0..<24
    static let foreign = 100..<104

    @Test("seeded interleavings on two store instances equal the reference model", arguments: StoreKind.allCases)
    func modelCheck(kind: StoreKind) async throws {
        for seed in [1, 2, 3] as [UInt64] {
            try await withStore(kind) { sut in
                try await Self.run(seed: seed, steps: 120, sut)
            }
        }
    }

    static func run(seed: UInt64, steps: Int, _ sut: StoreUnderTest) async throws {
        var random = SeededGenerator(state: seed)
        let (tenant, token) = try await seedTenant(sut.store, licences: 12)
        let stores = [sut.store, try await sut.makeSecondStore()]
        var model = Model(total: 12)
        var event = 0
        for step in 0..<steps {
            let store = stores[step % 2]
            let op = Int.random(in: 0..<9, using: &random)
            func pick(_ code: AssignmentState.Code) -> Int? {
                model.states.filter { $0.value == code }.keys.sorted().randomElement(using: &random)
            }
            switch op {
            case 0, 1:  // reserve a few devices that hold nothing
                let free = devices.filter { model.states[$0]?.holdsLicence != true }.shuffled(using: &random)
                let chosen = Array(free.prefix(Int.random(in: 1...3, using: &random)))
                guard !chosen.isEmpty else { continue }
                let rows = chosen.map {
                    Assignment(
                        tenantID: tenant.id,
                        asset: keynote.key,
                        assignee: .device(serial($0)),
                        grantingToken: token.id
                    )
                }
                let granted = try await store.inTenant(tenant.id) { tx in try await tx.reserveLicences(rows) }
                #expect(
                    granted == (model.available >= chosen.count),
                    "seed \(seed) step \(step): reserve \(chosen.count)"
                )
                if granted {
                    for (index, device) in chosen.enumerated() {
                        model.states[device] = .reserved
                        model.rowIDs[device] = rows[index].id
                    }
                }
            case 2:  // a worker sends a reservation to Apple, and Apple may carry it out at once
                guard let device = pick(.reserved), let id = model.rowIDs[device] else { continue }
                event += 1
                let pending = AssignmentState.pending(eventID: "e\(event)")
                try await store.inTenant(tenant.id) { tx in _ = try await tx.move([id], to: pending) }
                model.states[device] = .pending
                if Bool.random(using: &random) { model.appleHolds.insert(device) }
            case 3:  // the event settles: confirmed where Apple holds it, failed where it does not
                guard let device = pick(.pending) ?? pick(.reserved), let id = model.rowIDs[device] else { continue }
                let holds = model.appleHolds.contains(device)
                try await store.inTenant(tenant.id) { tx in
                    _ = try await tx.move([id], to: holds ? .active : .failed(reason: "9709"))
                }
                model.states[device] = holds ? .active : .failed
            case 4:  // an admin revokes: queued, then sent
                guard let device = pick(.active), let id = model.rowIDs[device] else { continue }
                event += 1
                let sendNow = Bool.random(using: &random)
                let revoking = AssignmentState.revoking(eventID: "r\(event)")
                try await store.inTenant(tenant.id) { tx in
                    _ = try await tx.move([id], to: .revocationQueued)
                    if sendNow { _ = try await tx.move([id], to: revoking) }
                }
                let rows = try await store.inTenant(tenant.id) { tx in
                    try await tx.assignments(AssignmentQuery(ids: [id]))
                }
                model.states[device] = rows.first?.state.stateCode
            case 5:  // Apple carries out a revoke and says so
                guard let device = pick(.revoking) ?? pick(.revocationQueued), let id = model.rowIDs[device] else {
                    continue
                }
                model.appleHolds.remove(device)
                try await store.inTenant(tenant.id) { tx in _ = try await tx.move([id], to: .revoked) }
                model.states[device] = .revoked
            case 6:  // someone assigns outside vpp, or the assignment goes away
                let device = foreign.randomElement(using: &random)!
                if model.appleHolds.contains(device) {
                    model.appleHolds.remove(device)
                } else {
                    model.appleHolds.insert(device)
                }
            case 7:  // ASSET_COUNT: a purchase or a refund
                let delta = Int.random(in: -3...4, using: &random)
                try await store.inTenant(tenant.id) { tx in
                    try await tx.adjustCounts(tokenID: token.id, asset: keynote.key, delta: delta)
                }
                model.total = max(0, model.total + delta)
            default:  // a full sync: Apple's list and counts, reconciled under the counts' lock
                let list = model.appleHolds.sorted().map {
                    AppleAssignmentRecord(asset: keynote.key, assignee: .serialNumber(serial($0).value))
                }
                let appleAssigned = model.appleHolds.count
                let appleAvailable = max(0, model.total - model.withheld - appleAssigned)
                let snapshot = try LicenceCounts(
                    total: max(model.total, appleAssigned),
                    assigned: appleAssigned,
                    available: min(appleAvailable, max(model.total, appleAssigned))
                )
                try await store.inTenant(tenant.id) { tx in
                    try await tx.lockCounts(tokenID: token.id)
                    _ = try await tx.mergeAppleAssignments(tokenID: token.id, list, fullSnapshot: true)
                    try await tx.replaceCounts(tokenID: token.id, [keynote.key: snapshot])
                }
                model.total = snapshot.total
                model.withheld = max(0, snapshot.total - snapshot.assigned - snapshot.available)
                for device in model.appleHolds {
                    switch model.states[device] {
                    case nil where foreign.contains(device): model.states[device] = .active
                    case .reserved?, .pending?, .failed?, .revoked?, nil: model.states[device] = .active
                    default: break
                    }
                }
                for (device, state) in model.states where !model.appleHolds.contains(device) {
                    if state == .active { model.states[device] = nil }
                    if state == .revocationQueued || state == .revoking { model.states[device] = .revoked }
                }
                // Rows the sync inserted (foreign) or kept: learn their ids from the store.
                let rows = try await store.inTenant(tenant.id) { tx in try await tx.assignments(AssignmentQuery()) }
                for row in rows where row.state.holdsLicence {
                    if case .device(let s) = row.assignee, let index = Int(s.value.dropFirst(2)) {
                        model.rowIDs[index] = row.id
                    }
                }
            }
            try await Self.expectEqual(
                model,
                sut,
                tenant: tenant.id,
                token: token.id,
                context: "seed \(seed) step \(step) op \(op)"
            )
        }
    }

    static func expectEqual(
        _ model: Model,
        _ sut: StoreUnderTest,
        tenant: TenantID,
        token: TokenID,
        context: String
    ) async throws {
        let rows = try await sut.store.inTenant(tenant) { tx in try await tx.assignments(AssignmentQuery()) }
        // The stored numbers themselves (the port's LicenceCounts clamps `assigned` to the total for display).
        let stored = try #require(
            try await sut.raw(
                "SELECT total, withheld, assigned, available FROM token_assets WHERE token_id = \(token)"
            ).first,
            "\(context): counts row"
        )
        let (total, withheld, assigned, available) = (
            try stored.decode("total", as: Int.self), try stored.decode("withheld", as: Int.self),
            try stored.decode("assigned", as: Int.self), try stored.decode("available", as: Int.self)
        )
        let holding = rows.filter(\.state.holdsLicence)
        #expect(assigned == holding.count, "\(context): assigned equals the rows holding a licence")
        #expect(assigned == model.held, "\(context): assigned equals the model")
        #expect(total == model.total && withheld == model.withheld, "\(context): total and withheld")
        #expect(available == model.available, "\(context): available \(available) vs model \(model.available)")
        #expect(available >= 0 && available <= max(0, total - withheld - assigned))
        var byDevice: [Int: [AssignmentState.Code]] = [:]
        for row in rows {
            if case .device(let s) = row.assignee, let index = Int(s.value.dropFirst(2)) {
                byDevice[index, default: []].append(row.state.stateCode)
            }
        }
        for (device, codes) in byDevice {
            #expect(codes.filter(\.holdsLicence).count <= 1, "\(context): device \(device) holds one licence at most")
        }
        for (device, state) in model.states where state.holdsLicence {
            #expect(byDevice[device]?.contains(state) == true, "\(context): device \(device) is \(state) in the model")
        }
    }

    @Test(
        "40 concurrent reservations on two servers racing syncs and ASSET_COUNT: exactly the pool, no wrong refusal",
        arguments: StoreKind.allCases
    )
    func reservationsRaceSyncs(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, token) = try await seedTenant(sut.store, licences: 8)
            let second = try await sut.makeSecondStore()
            // Apple's view never changes here: 8 available, nothing assigned; every sync says so.
            let results = try await withThrowingTaskGroup(of: Bool?.self) { group in
                for i in 0..<40 {
                    let store = i.isMultiple(of: 2) ? sut.store : second
                    group.addTask {
                        let row = Assignment(
                            tenantID: tenant.id,
                            asset: keynote.key,
                            assignee: .device(serial(i)),
                            grantingToken: token.id
                        )
                        return try await store.inTenant(tenant.id) { tx in try await tx.reserveLicences([row]) }
                    }
                }
                for i in 0..<8 {
                    let store = i.isMultiple(of: 2) ? second : sut.store
                    group.addTask {
                        try await store.inTenant(tenant.id) { tx in
                            if i.isMultiple(of: 3) {
                                // A purchase and its refund: net nothing.
                                try await tx.adjustCounts(tokenID: token.id, asset: keynote.key, delta: 2)
                                try await tx.adjustCounts(tokenID: token.id, asset: keynote.key, delta: -2)
                            } else {
                                try await tx.lockCounts(tokenID: token.id)
                                _ = try await tx.mergeAppleAssignments(tokenID: token.id, [], fullSnapshot: true)
                                try await tx.replaceCounts(tokenID: token.id, [keynote.key: counts(8)])
                            }
                        }
                        return nil
                    }
                }
                return try await group.reduce(into: [Bool]()) { if let granted = $1 { $0.append(granted) } }
            }
            #expect(results.filter { $0 }.count == 8, "exactly the pool is granted")
            #expect(results.filter { !$0 }.count == 32)
            try await sut.store.inTenant(tenant.id) { tx in
                let stored = try #require(try await tx.counts(tokenID: token.id).first).counts
                #expect(stored.assigned == 8 && stored.available == 0)
                #expect(try await tx.assignments(AssignmentQuery(states: AssignmentState.Code.holding)).count == 8)
            }
        }
    }
}

@Suite("Job queue: fairness across tenants")
struct JobFairnessTests {
    @Test("a tenant with 100 due jobs does not starve nine tenants with one each", arguments: StoreKind.allCases)
    func roundRobin(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let busy = makeTenant("busy")
            try await sut.store.createTenant(busy)
            for i in 0..<100 {
                try await sut.store.jobs.enqueue(
                    JobRequest(
                        tenantID: busy.id,
                        kind: .sync,
                        key: JobKey(rawValue: "t\(i)"),
                        runAt: now.addingTimeInterval(-1000)
                    )
                )
            }
            var quiet: [TenantID] = []
            for i in 0..<9 {
                let tenant = makeTenant("quiet-\(i)")
                try await sut.store.createTenant(tenant)
                quiet.append(tenant.id)
                try await sut.store.jobs.enqueue(
                    JobRequest(tenantID: tenant.id, kind: .sync, key: JobKey(rawValue: "t"), runAt: now)
                )
            }
            let claimed = try await sut.store.jobs.claim(
                owner: "w",
                now: now.addingTimeInterval(1),
                lease: 60,
                limit: 10
            )
            #expect(claimed.count == 10)
            #expect(
                Set(claimed.map(\.tenantID)) == Set(quiet + [busy.id]),
                "every tenant gets its turn in the first claim"
            )
        }
    }
}
