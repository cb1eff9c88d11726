import Foundation
import VPPDomain

/// A device command ready to hand to the MDM server: the Apple plist and where it goes.
public struct OutgoingDeviceCommand: Hashable, Sendable {
    /// The outbox row id, also the plist's `CommandUUID`.
    public let id: UUID
    public let tenantID: TenantID
    public let serialNumber: String
    /// The MDM enrollment id (UDID) the command is addressed to.
    public let enrollmentID: String
    public let requestType: DeviceCommand.Kind
    public let adamID: String
    /// The raw XML plist (`CommandUUID`, `Command.RequestType`, …).
    public let plist: Data
    public let createdAt: Date

    public init(
        id: UUID,
        tenantID: TenantID,
        serialNumber: String,
        enrollmentID: String,
        requestType: DeviceCommand.Kind,
        adamID: String,
        plist: Data,
        createdAt: Date
    ) {
        self.id = id
        self.tenantID = tenantID
        self.serialNumber = serialNumber
        self.enrollmentID = enrollmentID
        self.requestType = requestType
        self.adamID = adamID
        self.plist = plist
        self.createdAt = createdAt
    }
}

/// What became of one command handed to the MDM server.
public enum DeliveryOutcome: Hashable, Sendable {
    /// The MDM server accepted (queued) it, now or on an earlier attempt (same CommandUUID).
    case delivered
    /// Try again later (down, 5xx, 429, time-out); `after` honours a Retry-After.
    case retry(String, after: TimeInterval? = nil)
    /// The MDM server refused this command for good (e.g. an unknown enrollment id).
    case refused(String)
    /// The endpoint told vpp to stop (410 Gone): the connection is disabled until saved again.
    case endpointGone(String)
}

/// The opened secrets an adapter needs; never logged or printed.
public struct MDMCredentials: Sendable {
    public let apiKey: String?
    /// The `whsec_…` secret for Standard Webhooks.
    public let signingSecret: String?

    public init(apiKey: String?, signingSecret: String?) {
        self.apiKey = apiKey
        self.signingSecret = signingSecret
    }
}

/// The delivery port: hands commands to one MDM server. Adapters answer for every command given.
public protocol DeviceCommandDelivery: Sendable {
    /// Delivers `commands`; returns an outcome for each id (a missing one counts as a retry).
    func deliver(_ commands: [OutgoingDeviceCommand]) async -> [UUID: DeliveryOutcome]
}

/// Builds the adapter for a tenant's connection (the composition root knows the adapters).
public protocol DeviceCommandDeliveryFactory: Sendable {
    func delivery(for connection: MDMConnection, credentials: MDMCredentials) throws -> any DeviceCommandDelivery
}
