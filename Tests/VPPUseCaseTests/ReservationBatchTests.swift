import Foundation
import Testing
import VPPAppleSimulator
import VPPDomain
import VPPTestSupport
import VPPUseCases

/// Small reservations of one app that arrive together share a transaction (``ReservationBatches``): each
/// request must still get the answer it would get alone, and the ledger must never oversell.
@Suite("Reservation batches: concurrent requests share a transaction, each answered as alone")
struct ReservationBatchTests {
    /// A server's pump that only takes note: the requests answer once their reservation is durable.
    struct QueueOnly: IntentScheduler {
        func intentsQueued(_ group: IntentGroup) {}
    }

    /// Two tokens sharing Keynote (5 + 2 licences), 10 devices; assignment answers once reserved.
    func setUp(_ world: World) async throws -> (AssignLicences, [SerialNumber]) {
        let (fileA, _) = try await world.location("A", assets: [keynoteSim], validDays: 300)
        let (fileB, _) = try await world.location(
            "B",
            assets: [SimAsset(adamId: "408709785", totalCount: 2)],
            validDays: 200
        )
        _ = try await world.useCases.uploadToken(world.admin, file: fileA)
        _ = try await world.useCases.uploadToken(world.admin, file: fileB)
        let serials = try await world.addDevices(10, installed: ["408709785"])
        // The world's reservation batches, so the tests can read how many reservations were shared.
        let assign = AssignLicences(
            store: world.store,
            tokenCredentials: world.useCases.tokenCredentials,
            auditTrail: world.useCases.auditTrail,
            poolReader: LicencePoolReader(clock: world.clock),
            intentScheduler: QueueOnly(),
            intentWorker: world.useCases.carryOutAppleIntents,
            batches: world.useCases.reservationBatches
        )
        return (assign, serials)
    }

    enum Answer: Hashable, Sendable {
        case reserved(String)
        case refused(String)
    }

    /// Each request (one assignee) at once; the answers in request order.
    func assignAtOnce(_ assign: AssignLicences, _ world: World, _ serials: [String]) async throws -> [Answer] {
        try await withThrowingTaskGroup(of: (Int, Answer).self) { group in
            for (index, serial) in serials.enumerated() {
                group.addTask {
                    do {
                        let outcome = try await assign(
                            world.admin,
                            asset: keynoteSim.key,
                            to: [.device(try SerialNumber(serial))]
                        )
                        let serials = outcome.licences.compactMap { row -> String? in
                            if case .device(let serial) = row.assignee { serial.value } else { nil }
                        }
                        return (index, .reserved(serials.joined()))
                    } catch {
                        return (index, .refused("\(error)"))
                    }
                }
            }
            var answers = [Answer?](repeating: nil, count: serials.count)
            for try await (index, answer) in group { answers[index] = answer }
            return answers.compactMap { $0 }
        }
    }

    /// The pool's counts next to the rows holding licences, and the assignment audit lines.
    func readLedger(_ world: World) async throws -> (available: Int, assigned: Int, holding: Int, audited: Int) {
        try await world.store.inTenant(world.tenant.id) { tx in
            let counts = try await tx.counts(asset: keynoteSim.key)
            let holding = try await tx.assignments(
                AssignmentQuery(asset: keynoteSim.key, states: AssignmentState.Code.holding)
            )
            let audit = try await tx.auditLog(limit: 1000).filter {
                $0.action == "licence.assign" && $0.outcome == "reserved"
            }
            return (
                counts.map(\.counts.available).reduce(0, +), counts.map(\.counts.assigned).reduce(0, +),
                holding.count, audit.count
            )
        }
    }

    @Test(
        "concurrent requests share transactions; a device named twice and an unknown one are refused by name",
        arguments: StoreKind.allCases
    )
    func shared(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (assign, serials) = try await setUp(world)
            let names = serials.prefix(6).map(\.value) + [serials[0].value, "NOPE0001"]
            let answers = try await assignAtOnce(assign, world, names)
            let reserved = answers.compactMap { if case .reserved(let who) = $0 { who } else { nil } }
            #expect(Set(reserved) == Set(serials.prefix(6).map(\.value)) && reserved.count == 6)
            #expect(answers.contains(.refused("\(UseCaseError.alreadyLicensed([serials[0].value]))")))
            #expect(answers.contains(.refused("\(UseCaseError.unknownDevices(["NOPE0001"]))")))
            let ledger = try await readLedger(world)
            #expect(ledger.available == 1 && ledger.assigned == 6 && ledger.holding == 6 && ledger.audited == 6)
            #expect(
                world.useCases.reservationBatches.sharedReservations > 0,
                "eight requests at once: some shared a transaction"
            )
        }
    }

    @Test(
        "more requests than licences: exactly the pool is granted, the rest refused as short",
        arguments: StoreKind.allCases
    )
    func short(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (assign, serials) = try await setUp(world)
            let answers = try await assignAtOnce(assign, world, serials.map(\.value))
            let reserved = answers.filter { if case .reserved = $0 { true } else { false } }
            #expect(reserved.count == 7)
            let refusals = answers.compactMap { if case .refused(let why) = $0 { why } else { nil } }
            #expect(refusals.count == 3 && refusals.allSatisfy { $0.hasPrefix("No licences left for") })
            let ledger = try await readLedger(world)
            #expect(ledger.available == 0 && ledger.assigned == 7 && ledger.holding == 7 && ledger.audited == 7)
        }
    }

    @Test(
        "a device licensed before the batch is left out of it and refused alone, by name; the others are reserved",
        arguments: StoreKind.allCases
    )
    func rolledBack(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (assign, serials) = try await setUp(world)
            _ = try await assign(world.admin, asset: keynoteSim.key, to: [.device(serials[9])])
            let answers = try await assignAtOnce(assign, world, serials.prefix(5).map(\.value) + [serials[9].value])
            let reserved = answers.compactMap { if case .reserved(let who) = $0 { who } else { nil } }
            #expect(Set(reserved) == Set(serials.prefix(5).map(\.value)))
            #expect(answers.last == .refused("\(UseCaseError.alreadyLicensed([serials[9].value]))"))
            let ledger = try await readLedger(world)
            #expect(ledger.available == 1 && ledger.assigned == 6 && ledger.holding == 6 && ledger.audited == 6)
        }
    }

    @Test(
        "each request's Idempotency-Key is marked carried out by the shared transaction that reserved for it",
        arguments: StoreKind.allCases
    )
    func idempotencyKeys(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (assign, serials) = try await setUp(world)
            let writes = IdempotentWrites(store: world.ports.store, clock: world.ports.clock)
            let keys = serials.prefix(6).map { "key-\($0.value)" }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (serial, key) in zip(serials.prefix(6), keys) {
                    group.addTask {
                        // A claim that ends at once: a retry later finds it abandoned, as after a crash.
                        _ = try await writes.claim(world.admin, key: key, fingerprint: "f", claimFor: 0)
                        let claim = IdempotentRequest(tenantID: world.tenant.id, key: key, fingerprint: "f")
                        _ = try await IdempotentRequest.$current.withValue(claim) {
                            try await assign(world.admin, asset: keynoteSim.key, to: [.device(serial)])
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(world.useCases.reservationBatches.sharedReservations > 0, "some requests shared a transaction")
            for key in keys {
                let retry = try await writes.claim(world.admin, key: key, fingerprint: "f", claimFor: 60)
                #expect(retry == .outcomeLost, "\(key): its reservation committed, so a retry is not run again")
            }
        }
    }
}
