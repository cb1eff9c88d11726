import Foundation
import VPPDomain

/// A device command as the API and CLI show it; the pull API includes the plist to send.
public struct DeviceCommandView: Encodable, Sendable, Hashable {
    public let id: String
    public let serialNumber: String
    public let requestType: String
    public let adamId: String?
    public let state: String
    public let attempts: Int
    /// ISO 8601, like every time in the API.
    public let nextAttemptAt: String?
    public let lastError: String?
    public let createdAt: String
    public let deliveredAt: String?
    public let updatedAt: String?
    public let enrollmentId: String?
    /// The position to pass as `after` to continue listing after this command.
    public let cursor: String
    /// Base64 of the XML plist (pull API only; nil when it cannot be written yet, e.g. no bundle id).
    public let plist: String?
}

/// Lists device commands (CLI, API, the pull API) and records what a pulling MDM says became of them.
public struct DeviceCommandList: Sendable {
    let store: any Store
    let clock: any Clock
    let mdmEvents: ProcessMDMEvents

    /// Takes only what this use case touches.
    public init(store: any Store, clock: any Clock, mdmEvents: ProcessMDMEvents) {
        self.store = store
        self.clock = clock
        self.mdmEvents = mdmEvents
    }

    public func list(
        _ caller: Caller,
        _ query: DeviceCommandQuery,
        withPlist: Bool = false
    ) async throws -> [DeviceCommandView] {
        try caller.require(.read)
        var bounded = query
        bounded.limit = min(max(query.limit, 1), 1000)
        let query = bounded
        return try await store.inTenant(caller.tenantID) { tx in
            let records = try await tx.deviceCommandRecords(query)
            var devices: [String: Device] = [:]
            var bundles: [String: String] = [:]
            if withPlist {
                for serial in Set(records.map(\.command.serialNumber)) {
                    if let number = try? SerialNumber(serial), let device = try await tx.mdmDevice(serial: number) {
                        devices[serial] = device
                    }
                }
                // The page's apps only, not the catalogue.
                bundles = DeliverDeviceCommands.bundleIDs(
                    of: try await tx.apps(adamIDs: records.map(\.command.adamID).filter { !$0.isEmpty })
                )
            }
            return records.map { record in
                let c = record.command
                let plist =
                    withPlist
                    ? (try? MDMCommandPayload.plist(
                        for: c,
                        platform: devices[c.serialNumber]?.enrollment.platform ?? .iOS,
                        osVersion: devices[c.serialNumber]?.enrollment.osVersion.flatMap(OSVersion.init),
                        bundleID: bundles[c.adamID]
                    ))?.base64EncodedString() : nil
                return Self.view(record, enrollmentID: devices[c.serialNumber]?.enrollment.enrollmentID, plist: plist)
            }
        }
    }

    static func iso(_ date: Date) -> String { ISO8601Timestamp.format(date) }

    static func view(
        _ record: DeviceCommandRecord,
        enrollmentID: String? = nil,
        plist: String? = nil
    ) -> DeviceCommandView {
        let c = record.command
        return DeviceCommandView(
            id: c.id.uuidString.lowercased(),
            serialNumber: c.serialNumber,
            requestType: c.kind.rawValue,
            adamId: c.adamID.isEmpty ? nil : c.adamID,
            state: record.state.rawValue,
            attempts: record.attempts,
            nextAttemptAt: record.state == .queued ? record.nextAttemptAt.map(iso) : nil,
            lastError: record.lastError,
            createdAt: iso(c.createdAt),
            deliveredAt: record.deliveredAt.map(iso),
            updatedAt: record.updatedAt.map(iso),
            enrollmentId: record.enrollmentID ?? enrollmentID,
            cursor: DeviceCommandCursor(createdAt: c.createdAt, id: c.id).description,
            plist: plist
        )
    }

    /// A pulling MDM reports a command's fate: `delivered` (queued for the device), `acknowledged`, `error`, `notNow`.
    public func acknowledge(
        _ caller: Caller,
        id: UUID,
        status: String,
        error: String?
    ) async throws -> DeviceCommandView {
        try caller.require(.manageLicences)
        guard let state = DeviceCommandState(rawValue: status),
            [.delivered, .acknowledged, .error, .notNow].contains(state)
        else {
            throw MDMError.badAcknowledgement(
                "status must be delivered, acknowledged, error or notNow (got \"\(status.prefix(40))\")"
            )
        }
        let now = clock.now()
        return try await store.inTenant(caller.tenantID) { tx in
            guard let record = try await tx.deviceCommandRecord(id) else { throw MDMError.unknownCommand(id) }
            guard !record.state.isFinal else {
                throw MDMError.badAcknowledgement("command is already \(record.state.rawValue)")
            }
            try await tx.updateDeviceCommand(
                id,
                DeviceCommandUpdate(
                    state: state,
                    lastError: state == .error ? (error ?? "error") : nil,
                    deliveredAt: record.deliveredAt ?? now
                ),
                at: now
            )
            if state == .acknowledged, record.command.kind == .installApplication {
                try await mdmEvents.askForInstalledApps(
                    record.command.serialNumber,
                    tx,
                    at: now
                )
            }
            guard let updated = try await tx.deviceCommandRecord(id) else { throw MDMError.unknownCommand(id) }
            return Self.view(updated)
        }
    }
}
