import Foundation
import Synchronization
import VPPDomain

/// A tenant's stored MDM connection with its sealed secrets.
public struct StoredMDMConnection: Hashable, Sendable {
    public var connection: MDMConnection
    public var secrets: MDMSealedSecrets

    public init(connection: MDMConnection, secrets: MDMSealedSecrets) {
        self.connection = connection
        self.secrets = secrets
    }
}

/// Which device commands to list (newest last), with a cursor for the pull API.
public struct DeviceCommandQuery: Hashable, Sendable {
    public var serialNumber: String?
    public var states: Set<DeviceCommandState>?
    /// Only commands after this one in (created_at, id) order.
    public var after: DeviceCommandCursor?
    public var limit: Int

    public init(
        serialNumber: String? = nil,
        states: Set<DeviceCommandState>? = nil,
        after: DeviceCommandCursor? = nil,
        limit: Int = 1000
    ) {
        self.serialNumber = serialNumber
        self.states = states
        self.after = after
        self.limit = limit
    }
}

/// A position in the device-command list: `<created-at-ms>_<command-id>`, opaque to callers.
public struct DeviceCommandCursor: Hashable, Sendable, CustomStringConvertible {
    public let createdAtMilliseconds: Int64
    public let id: UUID

    public init(createdAt: Date, id: UUID) {
        createdAtMilliseconds = Int64((createdAt.timeIntervalSince1970 * 1000).rounded(.down))
        self.id = id
    }

    public init?(_ text: String) {
        let parts = text.split(separator: "_")
        guard parts.count == 2, let ms = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else {
            return nil
        }
        createdAtMilliseconds = ms
        self.id = id
    }

    public var description: String { "\(createdAtMilliseconds)_\(id.uuidString.lowercased())" }
}

/// A change to one command's delivery state.
public struct DeviceCommandUpdate: Hashable, Sendable {
    public var state: DeviceCommandState
    public var nextAttemptAt: Date?
    public var lastError: String?
    public var deliveredAt: Date?
    public var enrollmentID: String?

    public init(
        state: DeviceCommandState,
        nextAttemptAt: Date? = nil,
        lastError: String? = nil,
        deliveredAt: Date? = nil,
        enrollmentID: String? = nil
    ) {
        self.state = state
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.deliveredAt = deliveredAt
        self.enrollmentID = enrollmentID
    }
}

private let eventSequence = Atomic<UInt64>(0)

extension MDMEventRecord {
    /// An id that sorts in arrival order: milliseconds, then a per-process sequence. Events are processed in
    /// (received_at, id) order, so an Authenticate and the TokenUpdate that follows it in the same millisecond
    /// are never swapped.
    static func orderedID(at date: Date) -> UUID {
        let ms = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        let sequence = eventSequence.add(1, ordering: .relaxed).newValue
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: ms >> UInt64(8 * (5 - i))) }
        for i in 0..<8 { bytes[8 + i] = UInt8(truncatingIfNeeded: sequence >> UInt64(8 * (7 - i))) }
        bytes[6] = 0x70 | (bytes[6] & 0x0f)  // version 7 layout (time-ordered)
        bytes[8] = 0x80 | (bytes[8] & 0x3f)  // RFC 4122 variant
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            )
        )
    }
}

/// What became of a recorded MDM webhook event.
public enum MDMEventState: String, Hashable, Sendable, CaseIterable {
    case pending, processed, ignored, duplicate
}

/// An MDM webhook event as received (the raw JSON), recorded before it is processed.
public struct MDMEventRecord: Hashable, Sendable {
    public let id: UUID
    public let receivedAt: Date
    public let topic: String
    /// A digest of the body (which holds the `event_id` when the MDM server sends one): an event is a repeat only
    /// when its id and its content both match one received within the retention period.
    public let dedupeKey: String
    public let body: String
    public var state: MDMEventState
    public var detail: String

    public init(
        id: UUID? = nil,
        receivedAt: Date,
        topic: String,
        dedupeKey: String,
        body: String,
        state: MDMEventState = .pending,
        detail: String = ""
    ) {
        self.id = id ?? Self.orderedID(at: receivedAt)
        self.receivedAt = receivedAt
        self.topic = topic
        self.dedupeKey = dedupeKey
        self.body = body
        self.state = state
        self.detail = detail
    }
}

/// The MDM connection, devices as the MDM reports them and MDM webhook events, inside one tenant's unit of work
/// (see TenantTransaction); the commands sent to devices are ``DeviceCommandRecords``.
public protocol MDMRecords: Sendable {
    // MARK: Connection
    func saveMDMConnection(_ stored: StoredMDMConnection) async throws
    func mdmConnection() async throws -> StoredMDMConnection?
    func disableMDMConnection(reason: String) async throws

    // MARK: Devices as the MDM reports them
    /// Inserts the device if it is new, else updates its enrollment (name and installed apps untouched).
    func saveEnrollment(_ serial: SerialNumber, _ enrollment: MDMEnrollment) async throws
    /// The device with its MDM enrollment (the same as ``InventoryRecords/device(_:)``).
    func mdmDevice(serial: SerialNumber) async throws -> Device?
    func device(enrollmentID: String) async throws -> Device?
    func setInstalledApps(_ serial: SerialNumber, adamIDs: Set<String>, seenAt: Date) async throws
    /// Devices that left MDM at or before `cutoff` and whose licences were not yet reclaimed.
    func devicesDueForReclaim(unenrolledBefore cutoff: Date) async throws -> [Device]
    func markReclaimed(_ serial: SerialNumber, at: Date) async throws
    /// Enrolled devices not seen since `cutoff` become unenrolled as of now; returns their serials.
    func unenrollSilentDevices(lastSeenBefore cutoff: Date, now: Date) async throws -> [SerialNumber]

    // MARK: MDM webhook events
    /// Records the event, unless the tenant already has one with its dedupe key (the same id and content, not yet
    /// pruned): then nothing is stored and ``MDMEventState/duplicate`` is returned, so replays take no room.
    func recordMDMEvent(_ event: MDMEventRecord) async throws -> MDMEventState
    /// Deletes up to `limit` events received before `cutoff` that are no longer pending; returns how many.
    func pruneMDMEvents(receivedBefore cutoff: Date, limit: Int) async throws -> Int
    /// Takes the oldest pending events, locked until this unit of work ends; waits for (never skips) events another
    /// unit of work holds, so a tenant's events are handled in the order they arrived.
    func pendingMDMEvents(limit: Int) async throws -> [MDMEventRecord]
    func markMDMEvent(_ id: UUID, _ state: MDMEventState, detail: String) async throws
    func mdmEvents(limit: Int) async throws -> [MDMEventRecord]
}

/// MDM connection, device-command delivery and MDM webhook lookups that are not scoped to one tenant (see Store).
public protocol MDMDirectory: Sendable {
    /// Tenants with queued device commands or declaration changes due by `now`, pending webhook events, or
    /// declarative status to read back from KMFDDM.
    func tenantsWithMDMWork(now: Date) async throws -> [TenantID]
    /// Tenants with an MDM connection (for reclaim and silence checks).
    func tenantsWithMDMConnection() async throws -> [TenantID]
}
