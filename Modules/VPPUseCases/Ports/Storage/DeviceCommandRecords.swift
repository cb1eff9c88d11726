import Foundation
import VPPDomain

/// The tenant's device-command outbox (InstallApplication, RemoveApplication… for its MDM server) and the
/// delivery state of each command, inside its unit of work (see ``TenantTransaction``).
public protocol DeviceCommandRecords: Sendable {
    /// Queues commands; one of each kind per licence, whoever queues it and however often.
    func enqueueDeviceCommands(_ commands: [DeviceCommand]) async throws
    /// Every queued command (whole table: tests and the demo; delivery claims with
    /// ``claimDueDeviceCommands(owner:now:lease:limit:)``, listings page with ``deviceCommandRecords(_:)``).
    func deviceCommands() async throws -> [DeviceCommand]
    /// Takes up to `limit` queued commands that are due and not held by another server, for `lease` seconds.
    func claimDueDeviceCommands(
        owner: String,
        now: Date,
        lease: TimeInterval,
        limit: Int
    ) async throws -> [DeviceCommandRecord]
    /// Records a delivery result, only while `owner` still holds the claim; returns whether it did.
    @discardableResult
    func finishDelivery(_ id: UUID, owner: String, _ update: DeviceCommandUpdate, at: Date) async throws -> Bool
    /// Moves a command to `update.state` (device results, pull acknowledgements, verification).
    @discardableResult
    func updateDeviceCommand(_ id: UUID, _ update: DeviceCommandUpdate, at: Date) async throws -> Bool
    func deviceCommandRecords(_ query: DeviceCommandQuery) async throws -> [DeviceCommandRecord]
    func deviceCommandRecord(_ id: UUID) async throws -> DeviceCommandRecord?
    func deviceCommandCounts() async throws -> [DeviceCommandState: Int]
}
