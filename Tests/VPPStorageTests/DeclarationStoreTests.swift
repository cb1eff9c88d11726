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
}
