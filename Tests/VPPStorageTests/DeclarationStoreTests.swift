import Foundation
import Testing
import VPPDomain
import VPPSQLStore
import VPPTestSupport
import VPPUseCases

@Suite("Declarative delivery storage (PostgreSQL and SQLite, same tests)")
struct DeclarationStoreTests {
    static let keynote = AssetKey(adamID: "361285480")

    func change(_ serial: String, _ kind: DeclarationSetChange.Kind, _ id: AssignmentID) -> DeclarationSetChange {
        DeclarationSetChange(
            serialNumber: serial,
            asset: Self.keynote,
            licenceKind: .device,
            kind: kind,
            assignmentID: id,
            createdAt: now
        )
    }

    @Test("delivery: commands until set, then as set; per tenant", arguments: StoreKind.allCases)
    func delivery(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let a = makeTenant("A"), b = makeTenant("B")
            try await sut.store.createTenant(a)
            try await sut.store.createTenant(b)
            try await sut.store.inTenant(a.id) { (tx) async throws in
                #expect(try await tx.appDelivery() == .commands)
                try await tx.setAppDelivery(.declarations, now: now)
                #expect(try await tx.appDelivery() == .declarations)
                try await tx.setAppDelivery(.commands, now: now)
                try await tx.setAppDelivery(.declarations, now: now)
            }
            #expect(try await sut.store.inTenant(a.id) { tx in try await tx.appDelivery() } == .declarations)
            #expect(try await sut.store.inTenant(b.id) { tx in try await tx.appDelivery() } == .commands)
        }
    }

    @Test(
        "set changes: one of each kind per licence however often queued; listed per device; joined licences found",
        arguments: StoreKind.allCases
    )
    func onePerLicence(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let tenant = makeTenant("A")
            try await sut.store.createTenant(tenant)
            let first = AssignmentID(), second = AssignmentID(), never = AssignmentID()
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                try await tx.enqueueDeclarationSetChanges([change("S1", .join, first), change("S2", .join, second)])
                // A second server learning the same licences queues nothing more.
                try await tx.enqueueDeclarationSetChanges([change("S1", .join, first), change("S2", .join, second)])
                try await tx.enqueueDeclarationSetChanges([change("S1", .leave, first)])
                try await tx.enqueueDeclarationSetChanges([])
            }
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                let all = try await tx.declarationSetChanges(serial: nil, limit: 100)
                #expect(all.count == 3)
                #expect(all.allSatisfy { $0.state == .queued && $0.attempts == 0 && $0.change.asset == Self.keynote })
                let s1 = try await tx.declarationSetChanges(serial: "S1", limit: 100)
                #expect(Set(s1.map(\.change.kind)) == [.join, .leave])
                #expect(s1.allSatisfy { $0.change.assignmentID == first && $0.change.licenceKind == .device })
                #expect(try await tx.joinedLicences([first, second, never]) == [first, second])
                #expect(try await tx.joinedLicences([]).isEmpty)
            }
            // Another tenant sees none of them.
            let other = makeTenant("B")
            try await sut.store.createTenant(other)
            #expect(
                try await sut.store.inTenant(other.id) { tx in
                    try await tx.declarationSetChanges(serial: nil, limit: 100)
                }.isEmpty
            )
        }
    }

    @Test(
        "finishing a batch: one result for many changes, only those the owner still holds and that are queued",
        arguments: StoreKind.allCases
    )
    func finishBatch(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let tenant = makeTenant("A")
            try await sut.store.createTenant(tenant)
            let changes = (0..<5).map { change("S\($0)", .join, AssignmentID()) }
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                try await tx.enqueueDeclarationSetChanges(changes)
            }
            let later = now.addingTimeInterval(60)
            let claimed = try await sut.store.inTenant(tenant.id) { tx in
                try await tx.claimDueDeclarationSetChanges(owner: "a", now: now, lease: 30, limit: 4)
            }
            #expect(claimed.count == 4)
            let held = claimed.map(\.change.id)
            let unclaimed = try #require(changes.map(\.id).first { !held.contains($0) })
            let finished = try await sut.store.inTenant(tenant.id) { tx in
                // Another owner finishes nothing; the owner finishes its 3 (not the unclaimed one, not twice).
                let stranger = try await tx.finishDeclarationSetChanges(
                    held,
                    owner: "b",
                    state: .done,
                    nextAttemptAt: nil,
                    lastError: nil,
                    at: later
                )
                let owner = try await tx.finishDeclarationSetChanges(
                    Array(held.prefix(3)) + [unclaimed],
                    owner: "a",
                    state: .done,
                    nextAttemptAt: nil,
                    lastError: nil,
                    at: later
                )
                let again = try await tx.finishDeclarationSetChanges(
                    Array(held.prefix(3)),
                    owner: "a",
                    state: .failed,
                    nextAttemptAt: nil,
                    lastError: "late",
                    at: later
                )
                let retried = try await tx.finishDeclarationSetChanges(
                    [held[3]],
                    owner: "a",
                    state: .queued,
                    nextAttemptAt: later,
                    lastError: "503",
                    at: later
                )
                return [stranger, owner, again, retried]
            }
            #expect(finished == [0, 3, 0, 1])
            let stored = try await sut.store.inTenant(tenant.id) { tx in
                try await tx.declarationSetChanges(serial: nil, limit: 100)
            }
            let byID = Dictionary(uniqueKeysWithValues: stored.map { ($0.change.id, $0) })
            #expect(held.prefix(3).allSatisfy { byID[$0]?.state == .done && byID[$0]?.lastError == nil })
            #expect(byID[held[3]]?.state == .queued && byID[held[3]]?.lastError == "503")
            #expect(byID[unclaimed]?.state == .queued && byID[unclaimed]?.lastError == nil)
            // The retried change is free to claim again once due; the done ones never.
            let next = try await sut.store.inTenant(tenant.id) { tx in
                try await tx.claimDueDeclarationSetChanges(owner: "c", now: later, lease: 30, limit: 10)
            }
            #expect(Set(next.map(\.change.id)) == [held[3], unclaimed])
        }
    }
}
