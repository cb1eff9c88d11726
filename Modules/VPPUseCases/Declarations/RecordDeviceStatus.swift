import Foundation
import VPPDomain

/// Takes a device's declarative status report (posted directly, or from a DeclarativeManagement check-in) and
/// records, for each app vpp declared, what the device said: `managed` is the install verified, a
/// `managed-but-uninstalled` app is drift, `Error.LicenseNotFound` and other errors are failures with the
/// device's reasons. The state lands on the device's join for the app, so `vppctl declaration list` reads it.
public struct RecordDeviceStatus: Sendable {
    let store: any Store
    let clock: any Clock

    /// Takes only what this use case touches.
    public init(store: any Store, clock: any Clock) {
        self.store = store
        self.clock = clock
    }

    /// What one report changed.
    public struct Outcome: Hashable, Sendable {
        public var recorded: [AssetKey: ManagedAppStatus.Disposition] = [:]
        /// vpp's declarations the device named but vpp never put it in (or apps of other declarations): ignored.
        public var ignored = 0
        public init() {}
    }

    /// Records `report` for the device enrolled as `enrollmentID`.
    /// - Throws: ``UseCaseError`` for an unknown device, ``StatusReportError`` for a report that cannot be read.
    public func callAsFunction(_ caller: Caller, enrollmentID: String, report: Data) async throws -> Outcome {
        try caller.require(.manageLicences)
        let apps = try DeclarativeStatusReport.managedApps(report)
        let now = clock.now()
        return try await store.inTenant(caller.tenantID) { tx in
            guard let device = try await tx.device(enrollmentID: enrollmentID) else {
                throw UseCaseError.unknownDevices([enrollmentID])
            }
            var outcome = Outcome()
            for app in apps where !app.removed {
                guard let identifier = app.declarationIdentifier,
                    let (asset, _) = ManagedAppDeclaration.parse(identifier: identifier),
                    try await tx.recordDeviceStatus(
                        serial: device.serialNumber.value,
                        asset: asset,
                        state: app.rawState,
                        reasons: app.reasons,
                        at: now
                    )
                else {
                    outcome.ignored += 1
                    continue
                }
                outcome.recorded[asset] = app.disposition
            }
            return outcome
        }
    }
}
