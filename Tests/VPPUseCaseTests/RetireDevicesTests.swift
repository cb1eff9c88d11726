import Foundation
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

/// Retiring devices is a use case (not CLI code): audited, all or nothing, and it stops new licences.
@Suite("Retire devices")
struct RetireDevicesTests {
    @Test(
        """
        retire is all or nothing: an unknown serial or a read-only caller changes nothing; retired devices get no \
        licence
        """,
        arguments: StoreKind.allCases
    )
    func retire(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (file, _) = try await world.location("A", assets: [keynoteSim])
            _ = try await world.useCases.uploadToken(world.admin, file: file)
            let serials = try await world.addDevices(3)
            let assign = world.useCases.assignLicences.sendingInline()
            _ = try await assign(world.admin, asset: keynoteSim.key, to: [.device(serials[0])])
            try await world.settleEvents()
            let retire = world.useCases.retireDevices
            func retired() async throws -> Set<String> {
                let devices = try await world.useCases.manageInventory.devices(world.reader)
                return Set(devices.filter(\.isRetired).map(\.serialNumber.value))
            }
            func retireAudits() async throws -> Int {
                try await world.useCases.catalogue.auditLog(world.reader, limit: 500)
                    .filter { $0.action == "device.retire" }.count
            }

            let stranger = try SerialNumber("UNKNOWN0001")
            await #expect(throws: UseCaseError.unknownDevices(["UNKNOWN0001"])) {
                try await retire(world.admin, [serials[0], stranger])
            }
            await #expect(throws: AccessDenied.self) { try await retire(world.reader, [serials[0]]) }
            await #expect(throws: UseCaseError.noAssignees) { try await retire(world.admin, []) }
            #expect(try await retired().isEmpty, "a refused request retires nobody")
            #expect(try await retireAudits() == 0)

            let done = try await retire(world.admin, [serials[0], serials[1], serials[1]])
            #expect(Set(done.map(\.serialNumber)) == [serials[0], serials[1]])
            #expect(try await retired() == [serials[0].value, serials[1].value])
            #expect(try await retireAudits() == 1)
            try await retire(world.admin, [serials[0]])  // again: harmless
            #expect(try await retired() == [serials[0].value, serials[1].value])

            await #expect(throws: UseCaseError.unknownDevices([serials[1].value])) {
                _ = try await assign(world.admin, asset: keynoteSim.key, to: [.device(serials[1])])
            }
            // The licence the retired device held goes back through the ordinary revoke.
            #expect(try await world.useCases.revokeLicences.reclaimRetired(world.admin) == 1)
        }
    }
}
