import Foundation
import VPPDomain

/// A command for the MDM server to send to a device (the device-command outbox).
///
/// A command made for a licence carries the licence's ``AssignmentID``; the store keeps at most one
/// command of each kind per licence, so however many times and on whichever server vpp learns that
/// Apple granted (or took back) a licence, the device gets exactly one install (or removal).
public struct DeviceCommand: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        case installApplication = "InstallApplication"
        case removeApplication = "RemoveApplication"
        /// Asked after an acknowledged install, to verify the app is really there.
        case installedApplicationList = "InstalledApplicationList"
    }

    /// Also the MDM `CommandUUID`, so a delivery retried never makes a second command.
    public let id: UUID
    public let serialNumber: String
    public let kind: Kind
    /// The app (empty for an ``Kind/installedApplicationList`` query).
    public let adamID: String
    /// The licence this command is for, when it is for one.
    public let assignmentID: AssignmentID?
    public let createdAt: Date

    public init(
        id: UUID = UUID(),
        serialNumber: String,
        kind: Kind,
        adamID: String,
        assignmentID: AssignmentID? = nil,
        createdAt: Date
    ) {
        self.id = id
        self.serialNumber = serialNumber
        self.kind = kind
        self.adamID = adamID
        self.assignmentID = assignmentID
        self.createdAt = createdAt
    }
}

/// Where a device command stands. Stored by raw value; a stored value this build does not know is an error.
public enum DeviceCommandState: String, Hashable, Sendable, CaseIterable, Codable {
    /// Waiting to be handed to the MDM server (or to be pulled).
    case queued
    /// The MDM server accepted it (enqueued for the device).
    case delivered
    /// The device answered Acknowledged.
    case acknowledged
    /// The device answered Error or CommandFormatError.
    case error
    /// The device answered NotNow (it will be asked again by the MDM server).
    case notNow
    /// The app is in the device's InstalledApplicationList (installs only).
    case verified
    /// Given up: not delivered, or not verified, within the stated time-out (see ``DeliveryPolicy``).
    case failed
    /// Not sent on purpose: licence-only mode for the tenant or the app.
    case skipped

    /// No further change is expected.
    public var isFinal: Bool { [.verified, .failed, .skipped, .error].contains(self) }
}

/// A device command with its delivery state (the outbox row as the admin sees it).
public struct DeviceCommandRecord: Hashable, Sendable {
    public let command: DeviceCommand
    public var state: DeviceCommandState
    public var attempts: Int
    public var nextAttemptAt: Date?
    public var lastError: String?
    /// When the MDM server accepted it.
    public var deliveredAt: Date?
    public var updatedAt: Date?
    /// The MDM enrollment id (UDID) it was addressed to.
    public var enrollmentID: String?

    public init(
        command: DeviceCommand,
        state: DeviceCommandState,
        attempts: Int = 0,
        nextAttemptAt: Date? = nil,
        lastError: String? = nil,
        deliveredAt: Date? = nil,
        updatedAt: Date? = nil,
        enrollmentID: String? = nil
    ) {
        self.command = command
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.deliveredAt = deliveredAt
        self.updatedAt = updatedAt
        self.enrollmentID = enrollmentID
    }
}

/// Stated time-outs and back-off of delivery, the same on every server.
public enum DeliveryPolicy {
    /// A command not accepted by the MDM server within this time is failed (at least a day of retries).
    public static let deliveryTimeout: TimeInterval = 72 * 3600
    /// An acknowledged install not seen in InstalledApplicationList within this time is failed.
    public static let verificationTimeout: TimeInterval = 24 * 3600
    /// How long a server may hold a claimed command before another may deliver it (the CommandUUID makes
    /// the redelivery idempotent at the MDM server).
    public static let claimLease: TimeInterval = 60
    /// Exponential back-off from 5 s, capped at 15 min, with up to 20% jitter so replicas do not stampede.
    public static func retryDelay(attempt: Int, jitter: Double = Double.random(in: 0...0.2)) -> TimeInterval {
        let base = min(900, 5 * pow(2, Double(max(0, attempt - 1))))
        return base * (1 + jitter)
    }
}
