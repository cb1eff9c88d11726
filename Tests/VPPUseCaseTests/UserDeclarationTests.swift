import Foundation
import Logging
import Testing
import VPPAppleSimulator
import VPPDomain
import VPPTestSupport

@testable import VPPUseCases

@Suite("User licences by declaration: Assignment User, the user's enrollment (vppsim, both databases)")
struct UserDeclarationTests {
    @Test(
        "a user licence joins the app's User set at the user's linked enrollment; unlinked it waits; revoked it leaves",
        arguments: StoreKind.allCases
    )
    func userLicence(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (file, _) = try await world.location("A", assets: [keynoteSim])
            _ = try await world.useCases.uploadToken(world.admin, file: file)
            let ana = try ClientUserID("ana-1")
            try await world.useCases.manageInventory.addUsers(
                world.admin,
                [try ManagedUser(tenantID: world.tenant.id, clientUserID: ana, email: "ana@acme.example")]
            )
            try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.setAppDelivery(.declarations, now: world.clock.now())
            }
            let assign = world.useCases.assignLicences.polling(firstAfter: 0)
            _ = try await assign(world.admin, asset: keynoteSim.key, to: [.user(ana)])
            try await world.settleEvents()
            let changes = try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.declarationSetChanges(serial: nil, limit: 100)
            }
            #expect(changes.count == 1)
            let join = try #require(changes.first).change
            #expect(join.kind == .join && join.licenceKind == .user && join.clientUserID == ana)
            #expect(
                try await world.store.inTenant(world.tenant.id) { tx in try await tx.deviceCommands() }.isEmpty,
                "no InstallApplication for a user licence"
            )

            let publisher = DocumentRecordingPublisher()
            let deliver = DeliverDeclarationSetChanges(
                store: world.store,
                clock: world.clock,
                logger: Logger(label: "test"),
                publisher: publisher
            )
            // No enrollment linked yet: the join waits, saying why.
            var outcome = try await deliver(world.tenant.id, owner: "a")
            #expect(outcome.joined == 0 && outcome.retried == 1)
            #expect(publisher.joins.withLock { $0.isEmpty })
            let waiting = try await world.useCases.configureAppDelivery.setChanges(world.admin, serial: nil)
            #expect(waiting.first?.lastError?.contains("user ana-1 has no MDM enrollment") == true)
            #expect(waiting.first?.clientUserId == "ana-1")

            let link = world.useCases.linkUserEnrollment
            await #expect(throws: UseCaseError.unknownUsers(["bob"])) {
                try await link(world.admin, try ClientUserID("bob"), enrollmentID: try EnrollmentID("ENR-bob"))
            }
            try await link(world.admin, ana, enrollmentID: try EnrollmentID("ENR-ana"))
            #expect(try await link.enrollment(world.admin, ana) == "ENR-ana")
            world.clock.advance(days: 0.01)
            outcome = try await deliver(world.tenant.id, owner: "a")
            #expect(outcome.joined == 1)
            #expect(publisher.joins.withLock { $0 } == ["+ENR-ana vpp.app.408709785.STDQ.user"])
            let document = try #require(publisher.documents.first)
            #expect(document["Identifier"] as? String == "vpp.app.408709785.STDQ.user")
            let behaviour = (document["Payload"] as? [String: Any])?["InstallBehavior"] as? [String: Any]
            #expect((behaviour?["License"] as? [String: Any])?["Assignment"] as? String == "User")

            // Revoked: the user's enrollment leaves the set (no RemoveApplication: there is no device to name).
            _ = try await world.useCases.revokeLicences(
                world.admin,
                asset: keynoteSim.key,
                from: [.user(ana)]
            )
            world.clock.advance(days: 0.01)
            _ = try await deliver(world.tenant.id, owner: "a")
            try await world.settleEvents()
            world.clock.advance(days: 0.01)
            _ = try await deliver(world.tenant.id, owner: "a")
            #expect(publisher.joins.withLock { $0 }.last == "-ENR-ana vpp.app.408709785.STDQ.user")
            let leaves = try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.declarationSetChanges(serial: nil, limit: 100)
            }.filter { $0.change.kind == .leave }
            #expect(leaves.count == 1 && leaves.first?.change.clientUserID == ana && leaves.first?.state == .done)
        }
    }

    @Test(
        """
        the user's own enrollment reports: managed verifies the user's licence; a LicenseNotFound heals by asking \
        Apple about the clientUserId and re-associating the user licence; an unlinked enrollment is unknown
        """,
        arguments: StoreKind.allCases
    )
    func userEnrollmentReports(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (file, uid) = try await world.location("A", assets: [keynoteSim])
            _ = try await world.useCases.uploadToken(world.admin, file: file)
            let users = [try ClientUserID("ana-1"), try ClientUserID("bob-1")]
            try await world.useCases.manageInventory.addUsers(
                world.admin,
                try users.map { try ManagedUser(tenantID: world.tenant.id, clientUserID: $0) }
            )
            try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.setAppDelivery(.declarations, now: world.clock.now())
            }
            for user in users {
                try await world.useCases.linkUserEnrollment(
                    world.admin,
                    user,
                    enrollmentID: try EnrollmentID("UE-\(user.value)")
                )
            }
            let assign = world.useCases.assignLicences.polling(firstAfter: 0)
            _ = try await assign(world.admin, asset: keynoteSim.key, to: users.map { .user($0) })
            try await world.settleEvents()
            let deliver = DeliverDeclarationSetChanges(
                store: world.store,
                clock: world.clock,
                logger: Logger(label: "test"),
                publisher: DocumentRecordingPublisher()
            )
            #expect(try await deliver(world.tenant.id, owner: "a").joined == 2)
            func join(_ user: ClientUserID) async throws -> DeclarationSetChangeRecord? {
                try await world.store.inTenant(world.tenant.id) { tx in
                    try await tx.declarationSetChanges(serial: nil, limit: 100)
                }.first { $0.change.clientUserID == user && $0.change.kind == .join }
            }
            func report(_ state: String, reasons: [String] = []) -> Data {
                let item: [String: Any] = [
                    "identifier": "com.apple.Keynote", "declaration-identifier": "vpp.app.408709785.STDQ.user",
                    "state": state, "reasons": reasons.map { ["code": $0] },
                ]
                let body: [String: Any] = ["StatusItems": ["app": ["managed": ["list": [item]]]], "Errors": [Any]()]
                return (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
            }
            let record = world.useCases.recordDeviceStatus
            let managed = try await record(world.admin, enrollmentID: "UE-ana-1", report: report("managed"))
            #expect(managed.recorded == [keynoteSim.key: .verified])
            #expect(try await join(users[0])?.installState == .verified)
            #expect(try await join(users[1])?.installState == nil, "only ana's join")

            // bob's user licence is gone at Apple: his enrollment's LicenseNotFound heals through the ledger.
            try await world.simulator.dropAssignments(
                adamId: keynoteSim.adamId,
                clientUserIds: [users[1].value],
                at: uid
            )
            let associates = await world.simulator.requestCount("assets/associate")
            let healing = try await record(
                world.admin,
                enrollmentID: "UE-bob-1",
                report: report("failed", reasons: [StatusReason.licenceNotFound])
            )
            #expect(healing.healing == [keynoteSim.key: .reassociating], "\(healing)")
            try await world.settleEvents()
            #expect(await world.simulator.requestCount("assets/associate") == associates + 1)
            let row = try #require(try await join(users[1]))
            #expect(row.healAttempts == 1 && row.healStep == .republishing, "\(row)")
            #expect(try await join(users[0])?.healAttempts == 0, "ana's join untouched")

            await #expect(throws: UseCaseError.unknownEnrollment("UE-nobody")) {
                try await record(world.admin, enrollmentID: "UE-nobody", report: report("managed"))
            }
        }
    }
}
