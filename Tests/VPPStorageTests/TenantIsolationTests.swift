import Foundation
import Testing
import VPPDomain
import VPPSQLStore
import VPPTestSupport
import VPPUseCases

@Suite("Tenant isolation")
struct TenantIsolationTests {
    @Test(
        "tenant A cannot read, change or even detect tenant B's rows through any method",
        arguments: StoreKind.allCases
    )
    func isolation(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (a, _) = try await seedTenant(sut.store, name: "A")
            let (b, bToken) = try await seedTenant(sut.store, name: "B")
            let bAssignment = Assignment(
                tenantID: b.id,
                asset: keynote.key,
                assignee: .device(serial(1)),
                grantingToken: bToken.id
            )
            try await sut.store.inTenant(b.id) { (tx) async throws in
                try await tx.insertAssignments([bAssignment])
                try await tx.upsertDevices([Device(tenantID: b.id, serialNumber: serial(7))])
                try await tx.upsertUsers([try ManagedUser(tenantID: b.id, clientUserID: ClientUserID("b-user"))])
                try await tx.enqueueDeviceCommands([
                    DeviceCommand(serialNumber: "X", kind: .installApplication, adamID: "1", createdAt: now)
                ])
                _ = try await tx.enqueueNotice(
                    Notice(
                        tokenID: bToken.id,
                        kind: .expired,
                        tokenExpiresAt: bToken.expiresAt,
                        recipients: [],
                        subject: "s",
                        body: "b",
                        nextAttemptAt: now
                    )
                )
                try await tx.insertPendingEvents([
                    PendingAppleEvent(
                        eventID: "b-event",
                        tokenID: bToken.id,
                        kind: "k",
                        createdAt: now,
                        nextPollAt: now
                    )
                ])
                try await tx.appendAudit(AuditRecord(at: now, actor: "b", action: "x", target: "y", outcome: "ok"))
                try await tx.saveSyncState(TokenSyncState(tokenID: bToken.id, assignmentsVersionID: "v"))
            }

            try await sut.store.inTenant(a.id) { (tx) async throws in
                // Reads find nothing of B's.
                #expect(try await tx.token(bToken.id) == nil)
                #expect(try await tx.token(locationAppleID: "1001")?.tenantID == a.id)
                #expect(try await tx.tokenSecret(bToken.id) == nil)
                #expect(try await tx.tokens().allSatisfy { $0.tenantID == a.id })
                #expect(try await tx.counts(tokenID: bToken.id).isEmpty)
                #expect(try await tx.assignments(AssignmentQuery(tokenID: bToken.id)).isEmpty)
                #expect(try await tx.assignments(AssignmentQuery(assignee: .device(serial(1)))).isEmpty)
                #expect(try await tx.devices().isEmpty)
                #expect(try await tx.device(serial(7)) == nil)
                #expect(try await tx.users().isEmpty)
                #expect(try await tx.deviceCommands().isEmpty)
                #expect(try await tx.notices().isEmpty)
                #expect(try await tx.pendingEvents().isEmpty)
                #expect(try await tx.auditLog(limit: 10).isEmpty)
                #expect(try await tx.apiKeys().isEmpty)
                #expect(try await tx.syncState(bToken.id) == nil)
                // Writes aimed at B's ids change nothing and say "unknown", exactly as for ids that never existed.
                var stolen = bToken
                stolen.observedHolder = HolderIdentity(id: "evil", name: "evil", metadata: "")
                await #expect(throws: StoreError.unknownToken(bToken.id)) { try await tx.updateToken(stolen) }
                await #expect(throws: StoreError.unknownToken(bToken.id)) {
                    try await tx.replaceTokenSecret(bToken.id, secret: SealedSecret(keyID: "x", ciphertext: [0]))
                }
                await #expect(throws: StoreError.unknownToken(bToken.id)) { try await tx.deleteToken(bToken.id) }
                #expect(try await !tx.reserve(keynote.key, from: bToken.id, count: 1))
                try await tx.release(keynote.key, to: bToken.id, count: 5)
                try await tx.move([bAssignment.id], to: .revoked)
                try await tx.deleteAssignments([bAssignment.id])
                try await tx.deletePendingEvent("b-event")
                try await tx.replaceCounts(tokenID: bToken.id, [:])
            }

            // B's rows are exactly as they were.
            try await sut.store.inTenant(b.id) { (tx) async throws in
                #expect(try await tx.token(bToken.id) == bToken)
                #expect(try await tx.tokenSecret(bToken.id)?.keyID == "k1")
                #expect(try await tx.counts(tokenID: bToken.id).first?.counts == counts(10))
                #expect(try await tx.assignments(AssignmentQuery()).map(\.state) == [.reserved])
                #expect(try await tx.pendingEvents().count == 1)
            }
            // The same location in another tenant is not a duplicate: A cannot detect B holds it.
            try await sut.store.inTenant(a.id) { (tx) async throws in
                #expect(try await tx.token(locationAppleID: "2002") == nil)
                try await tx.insertToken(
                    makeToken(a.id, location: "2002", name: "Annex"),
                    secret: SealedSecret(keyID: "k", ciphertext: [1])
                )
            }
            try await sut.store.inTenant(b.id) { (tx) async throws in
                try await tx.insertToken(
                    makeToken(b.id, location: "2002", name: "Annex"),
                    secret: SealedSecret(keyID: "k", ciphertext: [1])
                )
            }
        }
    }
}
