import Foundation
import Testing
import VPPAppleSimulator
import VPPDomain
import VPPTestSupport
import VPPUseCases

/// Apple's notification about an event can arrive before the server that asked Apple has recorded the event.
@Suite("An Apple notification that overtakes the sender's record of its event")
struct NotificationRaceTests {
    @Test(
        "the notification waits for the event's record and settles it, instead of dropping it",
        arguments: StoreKind.allCases
    )
    func notificationBeforeRecord(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (file, _) = try await world.location("A", assets: [keynoteSim])
            let token = try #require(try await world.useCases.uploadToken(world.admin, file: file).token)
            let serials = try await world.addDevices(1)
            try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.setNotificationSecret(token.id, secret: try world.ports.secrets.seal("hook-secret"))
            }
            // Only the notification can settle it within this test.
            let assign = world.useCases.assignLicences.polling(firstAfter: 3_600)
            _ = try await assign(world.admin, asset: keynoteSim.key, to: [.device(serials[0])])
            // Model the race: the event is not recorded yet when Apple's notification arrives.
            let event = try #require(
                try await world.store.inTenant(world.tenant.id) { (tx) async throws in try await tx.pendingEvents() }
                    .first
            )
            try await world.store.inTenant(world.tenant.id) { tx in try await tx.deletePendingEvent(event.eventID) }
            let handle = world.useCases.handleAppleNotification
            let notification = AppleNotification(
                id: "n-race",
                type: "ASSET_MANAGEMENT",
                kind: .assetManagement(eventID: event.eventID)
            )
            let handling = Task {
                try await handle(
                    tenantID: world.tenant.id,
                    tokenID: token.id,
                    authorization: "Bearer hook-secret",
                    notification: notification
                )
            }
            try await Task.sleep(for: .milliseconds(300))
            try await world.store.inTenant(world.tenant.id) { tx in try await tx.insertPendingEvents([event]) }
            #expect(try await handling.value == .handled("ASSET_MANAGEMENT"))
            let licences = try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.assignments(AssignmentQuery(asset: keynoteSim.key))
            }
            #expect(licences.map(\.state) == [.active], "settled by the notification, not left for the poll")
        }
    }
}
