import Foundation
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

/// Webhook events are handled in the order they arrived, also when two event jobs of one tenant run at once
/// (a burst keeps a job busy past its 15-second window, and the next window's job starts beside it).
@Suite("MDM events: handled in arrival order when two processors run at once")
struct MDMEventOrderTests {
    static let devices = 200

    /// The enrollment id of test device `index` (8 + 16 hex digits, as Apple's UDIDs of newer devices).
    static func udid(_ index: Int) -> String { String(format: "00008110-%016X", index + 1) }

    /// A burst as mdmsim posts it: every device's Authenticate, then every device's TokenUpdate, each received
    /// a millisecond after the one before.
    static func receiveBurst(_ world: World) async throws {
        let receive = world.useCases.receiveMDMWebhook
        var bodies: [[UInt8]] = []
        for index in 0..<devices {
            let udid = udid(index)
            bodies.append(
                try MDMUseCaseTests.event(
                    "mdm.Authenticate",
                    udid: udid,
                    payload: [
                        "SerialNumber": String(format: "T%011d", index), "UDID": udid, "Model": "iPad13,4",
                        "ProductName": "iPad13,4", "OSVersion": "17.5",
                    ]
                )
            )
        }
        for index in 0..<devices {
            bodies.append(
                try MDMUseCaseTests.event("mdm.TokenUpdate", udid: udid(index), payload: ["Topic": "t"], tally: 1)
            )
        }
        for body in bodies {
            try await receive(tenantID: world.tenant.id, signature: MDMUseCaseTests.sign(body), body: body)
            world.clock.advance(days: 0.001 / 86_400)
        }
    }

    @Test(
        "a TokenUpdate is not handled while its device's Authenticate is still in another processor's batch",
        arguments: StoreKind.allCases
    )
    func concurrentProcessors(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            _ = try await MDMUseCaseTests.enrolled(world)  // connects the tenant (and enrolls one device)
            try await Self.receiveBurst(world)
            // Processor A holds the oldest batch (the 200 Authenticates) in its open transaction, as a job at work
            // does, while processor B runs. B must not take the TokenUpdates behind A's batch: their devices do not
            // exist until A commits, so B would ignore them ("no Authenticate seen") and leave 200 devices
            // `enrolling` for ever.
            let (holding, signal) = AsyncStream<Void>.makeStream()
            async let first: Void = world.store.inTenant(world.tenant.id) { tx in
                let held = try await tx.pendingMDMEvents(limit: Self.devices)
                #expect(held.count == Self.devices && held.allSatisfy { $0.topic == "mdm.Authenticate" })
                signal.yield()
                try await Task.sleep(for: .milliseconds(700))
            }
            for await _ in holding { break }
            try await world.useCases.processMDMEvents(world.tenant.id)
            try await first
            try await world.useCases.processMDMEvents(world.tenant.id)  // a later job: whatever is left

            let ignored = try await world.store.inTenant(world.tenant.id) { tx in
                try await tx.mdmEvents(limit: 1000).filter { $0.state == .ignored }
            }
            #expect(ignored.count == 0, "ignored: \(ignored.prefix(3).map(\.detail))")
            let states = try await world.useCases.manageInventory.devices(world.reader)
                .map(\.enrollment.state)
            #expect(states.count == Self.devices + 1)
            #expect(
                states.filter { $0 == .enrolled }.count == Self.devices + 1,
                "\(states.filter { $0 == .enrolling }.count) devices left enrolling"
            )
        }
    }
}
