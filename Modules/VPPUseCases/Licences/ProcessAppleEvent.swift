import Foundation
import VPPDomain

/// Applies the end of an Apple event to our records: confirmed assignments become active and their
/// devices get InstallApplication; failed ones release exactly their reservations and say why; confirmed
/// revocations return licences to the pool and queue RemoveApplication where the app is installed.
public struct ProcessAppleEvent: Sendable {
    let services: VPPServices
    /// Apple: while PENDING, wait at least 30 s between polls.
    public var pollInterval: TimeInterval = 30

    public init(services: VPPServices) { self.services = services }

    /// Asks Apple for the event's status and applies it. Returns the state Apple reported.
    @discardableResult
    public func poll(_ tenantID: TenantID, event: PendingAppleEvent) async throws -> AppleEventStatus.State {
        let credentials = try await services.credentials(tenantID, event.tokenID)
        let status = try await services.apple.eventStatus(credentials, eventID: event.eventID)
        try await apply(tenantID, event: event, status: status)
        return status.state
    }

    /// Polls every pending event that is due.
    public func pollDue(_ tenantID: TenantID) async throws -> Int {
        let now = services.clock.now()
        let due = try await services.store.inTenant(tenantID) { tx in try await tx.pendingEvents().filter { $0.nextPollAt <= now } }
        for event in due { try await poll(tenantID, event: event) }
        return due.count
    }

    public func apply(_ tenantID: TenantID, event: PendingAppleEvent, status: AppleEventStatus) async throws {
        let now = services.clock.now()
        guard status.state != .pending else {
            try await services.store.inTenant(tenantID) { tx in
                var next = event
                next.nextPollAt = now.addingTimeInterval(pollInterval)
                try await tx.insertPendingEvents([next])
            }
            return
        }
        let failedReasons = Dictionary(
            status.failures.flatMap { failure in (failure.serialNumbers + failure.clientUserIDs).map { ($0, failure.error.description) } },
            uniquingKeysWith: { first, _ in first })
        try await services.store.inTenant(tenantID) { tx in
            let rows = try await tx.assignments(AssignmentQuery(eventID: event.eventID))
            let devices = Dictionary(uniqueKeysWithValues: try await tx.devices().map { ($0.serialNumber.value, $0) })
            var commands: [DeviceCommand] = []
            for row in rows {
                let failure = failedReasons[row.assignee.text]
                switch row.state {
                case .pending:
                    if let failure {
                        try await tx.setState(.failed(reason: failure), of: [row.id])
                        try await tx.release(row.asset, to: row.grantingToken, count: 1)
                    } else {
                        try await tx.setState(.active, of: [row.id])
                        if case .device(let serial) = row.assignee {
                            commands.append(DeviceCommand(serialNumber: serial.value, kind: .installApplication, adamID: row.asset.adamID, createdAt: now))
                        }
                    }
                case .revoking:
                    if failure != nil {
                        try await tx.setState(.active, of: [row.id])
                    } else {
                        try await tx.setState(.revoked, of: [row.id])
                        try await tx.release(row.asset, to: row.grantingToken, count: 1)
                        if case .device(let serial) = row.assignee, devices[serial.value]?.hasInstalled(row.asset) == true {
                            commands.append(DeviceCommand(serialNumber: serial.value, kind: .removeApplication, adamID: row.asset.adamID, createdAt: now))
                        }
                    }
                default:
                    continue
                }
            }
            try await tx.enqueueDeviceCommands(commands)
            try await tx.deletePendingEvent(event.eventID)
            try await tx.appendAudit(AuditRecord(at: now, actor: "apple", action: "event.\(event.kind)", target: event.eventID,
                                                 outcome: status.state.rawValue.lowercased(),
                                                 detail: "\(status.numCompleted)/\(status.numRequested) done; \(failedReasons.count) failed"))
        }
    }
}
