import Foundation
import VPPAppleSimulator
import VPPDomain
import VPPUseCases

/// The set-ups the declaration tests share (they built them by hand, each its own copy).
extension World {
    /// Keynote, the app the declaration tests assign and deliver.
    public static let keynote = AssetKey(adamID: "408709785")

    /// An uploaded token of location "A" holding `licences` Keynote licences, and `count` devices enrolled in MDM
    /// (enrollment id `enrollmentID(index, serial)`: `UDID-<serial>` unless given); with `declarations`, the
    /// tenant delivers apps by declarations.
    /// - Returns: the devices' serials and the location's uid at the simulator.
    @discardableResult
    public func enrolledFleet(
        _ count: Int,
        keynoteLicences licences: Int,
        declarations: Bool = false,
        enrollmentID: (Int, SerialNumber) -> String = { "UDID-\($1.value)" }
    ) async throws -> (serials: [SerialNumber], uid: String) {
        let (file, uid) = try await location(
            "A",
            assets: [SimAsset(adamId: Self.keynote.adamID, totalCount: licences, name: "Keynote")]
        )
        _ = try await useCases.uploadToken(admin, file: file)
        let serials = try await addDevices(count)
        let ids = serials.enumerated().map { enrollmentID($0.offset, $0.element) }
        let now = clock.now()
        try await store.inTenant(tenant.id) { tx in
            if declarations { try await tx.setAppDelivery(.declarations, now: now) }
            for (serial, id) in zip(serials, ids) {
                try await tx.saveEnrollment(serial, MDMEnrollment(state: .enrolled, enrollmentID: id, platform: .iOS))
            }
        }
        return (serials, uid)
    }

    /// Enrolls `serial` as `enrollmentID` and queues its join to Keynote's declaration set (what a confirmed
    /// licence queues), so a status report from the device has a join to land on.
    public func enrolledAndJoined(_ serial: SerialNumber, enrollmentID: String) async throws {
        let now = clock.now()
        try await store.inTenant(tenant.id) { tx in
            try await tx.saveEnrollment(
                serial,
                MDMEnrollment(state: .enrolled, enrollmentID: enrollmentID, platform: .iOS)
            )
            try await tx.enqueueDeclarationSetChanges([
                DeclarationSetChange(
                    serialNumber: serial.value,
                    asset: Self.keynote,
                    licenceKind: .device,
                    kind: .join,
                    assignmentID: AssignmentID(),
                    createdAt: now
                )
            ])
        }
    }
}
