import Foundation
import VPPDomain

/// One device with each app it holds a licence for (or whose declaration set it joined): the licence, how the app
/// reaches the device (declaration or command) and where that stands, and what the device last reported. The
/// REST API's `GET /v1/devices/{serial}`, and the console's device page.
public struct DeviceDetailView: Encodable, Sendable, Hashable {
    /// One app on the device.
    public struct App: Encodable, Sendable, Hashable {
        public let adamId: String
        public let pricingParam: String
        /// The licence's state in the ledger (`active`, `reserved`, …); nil when the device holds none now.
        public let licence: String?
        /// Why the licence failed, when it did (Apple's reason).
        public let licenceReason: String?
        /// `declaration`, `command`, or `none` (licence only, or nothing sent yet).
        public let delivery: String
        /// The install in the command path's words: `verified`, `error`, `failed`, … (one truth for both paths).
        public let install: String?
        /// The declaration: the device's join and leave (`queued`, `done`, `failed`), attempts and last error.
        public let declaration: String?
        public let join: String?
        public let leave: String?
        public let attempts: Int?
        public let lastError: String?
        /// What the device last reported about the app (`managed`, `failed`, …), its reason codes and when.
        public let deviceState: String?
        public let deviceReasons: [String]
        public let reportedAt: String?
        /// Heals of `Error.LicenseNotFound`: how many, where the last stands, and Apple's and the device's reasons.
        public let healAttempts: Int?
        public let heal: String?
        public let healReason: String?
    }

    public let device: DeviceView
    public let apps: [App]

    init(
        device: Device,
        licences: [Assignment],
        changes: [DeclarationSetChangeRecord],
        commands: [DeviceCommandRecord]
    ) {
        self.device = DeviceView(device)
        // The newest licence per app; the latest join (and its leave) per app; the latest install command per app.
        var current: [AssetKey: Assignment] = [:]
        for licence in licences where current[licence.asset] == nil || licence.state.holdsLicence {
            current[licence.asset] = licence
        }
        let joins = Dictionary(
            changes.filter { $0.change.kind == .join }.map { ($0.change.asset, $0) },
            uniquingKeysWith: { $0.change.createdAt >= $1.change.createdAt ? $0 : $1 }
        )
        let leaves = Dictionary(
            changes.filter { $0.change.kind == .leave }.map { ($0.change.assignmentID, $0) },
            uniquingKeysWith: { first, _ in first }
        )
        let installs = Dictionary(
            commands.filter { $0.command.kind == .installApplication }.map { ($0.command.adamID, $0) },
            uniquingKeysWith: { $0.command.createdAt >= $1.command.createdAt ? $0 : $1 }
        )
        let assets = Set(current.keys).union(joins.keys).sorted()
        apps = assets.map { asset in
            let licence = current[asset]
            let join = joins[asset]
            let leave = join.flatMap { leaves[$0.change.assignmentID] }
            let command = join == nil ? installs[asset.adamID] : nil
            return App(
                adamId: asset.adamID,
                pricingParam: asset.pricingParam.rawValue,
                licence: licence?.state.code,
                licenceReason: licence?.state.reason,
                delivery: join != nil ? "declaration" : command != nil ? "command" : "none",
                install: join?.installState?.rawValue ?? command?.state.rawValue,
                declaration: join.flatMap {
                    try? ManagedAppDeclaration(asset: asset, assignment: $0.change.licenceKind).identifier
                },
                join: join?.state.rawValue,
                leave: leave?.state.rawValue,
                attempts: join.map { $0.attempts + (leave?.attempts ?? 0) } ?? command?.attempts,
                lastError: leave?.lastError ?? join?.lastError ?? command?.lastError,
                deviceState: join?.deviceState,
                deviceReasons: join?.deviceReasons.map(\.code) ?? [],
                reportedAt: join?.reportedAt.map(ISO8601Timestamp.format),
                healAttempts: join.map(\.healAttempts),
                heal: join?.healStep?.rawValue,
                healReason: join?.healError
            )
        }
    }
}

/// Reads one device with its apps (``DeviceDetailView``).
public struct DeviceDetail: Sendable {
    let store: any Store

    /// Takes only what this use case touches.
    public init(store: any Store) { self.store = store }

    /// - Throws: ``StoreError/unknownDevice(_:)`` when the inventory has no such device.
    public func callAsFunction(_ caller: Caller, serial: SerialNumber) async throws -> DeviceDetailView {
        try caller.require(.read)
        return try await store.inTenant(caller.tenantID) { tx in
            guard let device = try await tx.device(serial) else { throw StoreError.unknownDevice(serial.value) }
            return DeviceDetailView(
                device: device,
                licences: try await tx.assignments(AssignmentQuery(assignee: .device(serial))),
                changes: try await tx.declarationSetChanges(serial: serial.value, limit: 1000),
                commands: try await tx.deviceCommandRecords(DeviceCommandQuery(serialNumber: serial.value))
            )
        }
    }
}
