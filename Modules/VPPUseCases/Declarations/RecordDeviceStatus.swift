import Foundation
import VPPDomain

/// Takes a device's declarative status report (posted directly, or from a DeclarativeManagement check-in) and
/// records, for each app vpp declared, what the device said, on the device's join for the app:
/// - `managed` → the licence's install is `verified` (the command path's state: reports, drift and the console read
///   one truth); a failure → `error` with the device's reasons; `managed-but-uninstalled` → a drift finding;
/// - `Error.LicenseNotFound` → a heal is claimed in the store (once per join and report, however many servers
///   receive it; at most ``HealLicenceNotFound/maxAttempts``) and carried out after the report is recorded
///   (``HealLicenceNotFound``); past the attempts the install shows `failed` with Apple's and the device's reasons.
public struct RecordDeviceStatus: Sendable {
    let store: any Store
    let clock: any Clock
    let healer: HealLicenceNotFound?

    /// Takes only what this use case touches; without a `healer`, LicenseNotFound is recorded and not healed.
    public init(store: any Store, clock: any Clock, healer: HealLicenceNotFound? = nil) {
        self.store = store
        self.clock = clock
        self.healer = healer
    }

    /// What one report changed.
    public struct Outcome: Hashable, Sendable {
        public var recorded: [AssetKey: ManagedAppStatus.Disposition] = [:]
        /// vpp's declarations the device named but vpp never put it in (or apps of other declarations): ignored.
        public var ignored = 0
        /// The heals this report started (or found under way, or gave up), by app.
        public var healing: [AssetKey: HealLicenceNotFound.Result] = [:]
        public init() {}
    }

    /// A report recorded inside a unit of work, and the heals it claimed (carried out after the commit).
    public struct Recorded: Sendable {
        public var outcome = Outcome()
        public var claimed: [DeclarationSetChangeRecord] = []
    }

    /// Records `report` for the device enrolled as `enrollmentID`, then heals what it claimed. `receivedAt` is when
    /// a DDM server received a report vpp read back later (to the second): the report counts from then, so one
    /// received before a re-publication does not start another heal.
    /// - Throws: ``UseCaseError/unknownEnrollment(_:)`` for an unknown device, ``StatusReportError`` for a report
    ///   that cannot be read (nothing is recorded).
    public func callAsFunction(
        _ caller: Caller,
        enrollmentID: String,
        report: Data,
        receivedAt: Date? = nil
    ) async throws -> Outcome {
        try caller.require(.manageLicences)
        let apps = try DeclarativeStatusReport.managedApps(report)
        // A time to the second may be up to a second early: count the report from the end of that second.
        let now = receivedAt.map { min(clock.now(), $0.addingTimeInterval(1)) } ?? clock.now()
        let maxAttempts = healer?.maxAttempts ?? 0
        let lease = healer?.lease ?? 300
        let recorded = try await store.inTenant(caller.tenantID) { tx in
            // A device's enrollment, or a user's own (a User Enrollment, a Mac's user channel) linked to the user.
            let enrollee: String
            if let device = try await tx.device(enrollmentID: enrollmentID) {
                enrollee = device.serialNumber.value
            } else if let user = try await tx.linkedUser(enrollmentID: enrollmentID) {
                enrollee = "user \(user.value)"
            } else {
                throw UseCaseError.unknownEnrollment(enrollmentID)
            }
            return try await Self.record(
                tx,
                enrollee: enrollee,
                apps,
                now: now,
                maxAttempts: maxAttempts,
                lease: lease
            )
        }
        return await heal(caller.tenantID, recorded)
    }

    /// Carries out the heals a recorded report claimed.
    public func heal(_ tenantID: TenantID, _ recorded: Recorded) async -> Outcome {
        var outcome = recorded.outcome
        guard let healer else { return outcome }
        for join in recorded.claimed {
            outcome.healing[join.change.asset] = await healer.heal(tenantID, join)
        }
        return outcome
    }

    /// Records `apps` as reported by the device `serial` in `tx`; claims heals for `Error.LicenseNotFound`
    /// (`maxAttempts` 0: none) and marks installs failed once their attempts are used up.
    public static func record(
        _ tx: any TenantTransaction,
        serial: SerialNumber,
        _ apps: [ManagedAppStatus],
        now: Date,
        maxAttempts: Int,
        lease: TimeInterval
    ) async throws -> Recorded {
        try await record(tx, enrollee: serial.value, apps, now: now, maxAttempts: maxAttempts, lease: lease)
    }

    /// The same for an enrollee: a device's serial number, or `user <clientUserId>` (``DeclarationSetChange/enrollee``)
    /// for a user's own enrollment, whose reports land on the user's joins.
    public static func record(
        _ tx: any TenantTransaction,
        enrollee: String,
        _ apps: [ManagedAppStatus],
        now: Date,
        maxAttempts: Int,
        lease: TimeInterval
    ) async throws -> Recorded {
        var recorded = Recorded()
        for app in apps where !app.removed {
            guard let identifier = app.declarationIdentifier,
                let (asset, _) = ManagedAppDeclaration.parse(identifier: identifier),
                try await tx.recordDeviceStatus(
                    serial: enrollee,
                    asset: asset,
                    state: app.rawState,
                    reasons: app.reasons,
                    at: now
                )
            else {
                recorded.outcome.ignored += 1
                continue
            }
            let disposition = app.disposition
            recorded.outcome.recorded[asset] = disposition
            switch disposition {
            case .verified:
                try await tx.setDeclarationInstallState(serial: enrollee, asset: asset, .verified)
            case .failed:
                try await tx.setDeclarationInstallState(serial: enrollee, asset: asset, .error)
            case .drift:
                try await tx.setDeclarationInstallState(serial: enrollee, asset: asset, nil)
            case .pending:
                break
            case .licenceNotFound:
                guard maxAttempts > 0 else {
                    try await tx.setDeclarationInstallState(serial: enrollee, asset: asset, .error)
                    continue
                }
                let codes = app.reasons.map(\.code).joined(separator: ", ")
                switch try await tx.claimHeal(
                    serial: enrollee,
                    asset: asset,
                    maxAttempts: maxAttempts,
                    now: now,
                    lease: lease,
                    reason: "device: \(codes) after \(maxAttempts) re-publication(s)"
                ) {
                case .claimed(let join, _):
                    try await tx.setDeclarationInstallState(serial: enrollee, asset: asset, .error)
                    recorded.claimed.append(join)
                case .busy: recorded.outcome.healing[asset] = .alreadyHealing
                case .exhausted: recorded.outcome.healing[asset] = .gaveUp
                case .none: break
                }
            }
        }
        return recorded
    }
}
