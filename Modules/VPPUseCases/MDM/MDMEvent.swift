import Foundation
import VPPDomain

/// A MicroMDM-compatible webhook event (NanoMDM, NanoHUB, MicroMDM) as vpp keeps it: decoded and checked at the
/// HTTP edge by an ``MDMWebhookFormat``, recorded in this form (``storedBody``) and acted on by
/// ``ProcessMDMEvents``. Only what vpp acts on is kept: the raw check-in plist is not.
public struct MDMEvent: Hashable, Sendable, Codable {
    /// The MDM server's topic as sent (`mdm.Authenticate`, `mdm.Connect`, …), at most ``maximumTopicLength``.
    public let topic: String
    /// The MDM server's `event_id`, when it sends one (kept to trace an event back to the MDM server's log).
    public let eventID: String?
    public let kind: Kind

    public static let maximumTopicLength = 100

    /// What the event says, for the topics vpp acts on.
    public enum Kind: Hashable, Sendable, Codable {
        /// `mdm.Authenticate`: a device starts enrolling.
        case authenticate(MDMAuthentication)
        /// `mdm.TokenUpdate`: NanoMDM's tally 1 is "enrollment just completed"; MicroMDM sends none.
        case tokenUpdate(enrollmentID: EnrollmentID, tally: Int?)
        /// `mdm.CheckOut`: the device left MDM.
        case checkOut(enrollmentID: EnrollmentID)
        /// `mdm.DeclarativeManagement`: `apps` are the status report's managed apps for the `status` endpoint,
        /// nil for the other endpoints (tokens, declaration-items, a declaration fetch: the DDM server's business).
        case declarativeManagement(enrollmentID: EnrollmentID, endpoint: String, apps: [ManagedAppStatus]?)
        /// `mdm.Connect`: a device's answer to a command (or Idle).
        case commandResult(MDMCommandResult)
        /// A topic vpp does not act on: recorded, then ignored.
        case other
    }

    public init(topic: String, eventID: String? = nil, kind: Kind) {
        self.topic = topic
        self.eventID = eventID
        self.kind = kind
    }

    /// The form version vpp writes; a stored body without it is the MicroMDM JSON of an event recorded before the
    /// edge decoded it (see ``Stored``).
    static let formVersion = 1

    private enum CodingKeys: String, CodingKey {
        case vpp, topic, kind
        case eventID = "eventId"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard try container.decode(Int.self, forKey: .vpp) == Self.formVersion else {
            throw DecodingError.dataCorruptedError(
                forKey: .vpp,
                in: container,
                debugDescription: "unknown stored form"
            )
        }
        topic = try container.decode(String.self, forKey: .topic)
        eventID = try container.decodeIfPresent(String.self, forKey: .eventID)
        kind = try container.decode(Kind.self, forKey: .kind)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.formVersion, forKey: .vpp)
        try container.encode(topic, forKey: .topic)
        try container.encodeIfPresent(eventID, forKey: .eventID)
        try container.encode(kind, forKey: .kind)
    }

    /// The text recorded in `mdm_events.body`: this event as JSON, marked with vpp's form version.
    public var storedBody: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Every field is a string, number, boolean or list of them: encoding cannot fail.
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// A recorded body read back.
    public enum Stored: Hashable, Sendable {
        /// vpp's own form (everything recorded since the edge decodes the webhook).
        case decoded(MDMEvent)
        /// The MicroMDM JSON as received: recorded before the upgrade (or by a replica not yet upgraded).
        case asReceived(String)
        /// Marked as vpp's form but unreadable by this build.
        case unreadable(String)
    }

    /// Reads a recorded body: vpp's form when it carries the `vpp` form marker, else the body as received.
    public static func stored(_ body: String) -> Stored {
        struct Marker: Decodable { let vpp: Int? }
        let data = Data(body.utf8)
        guard let marker = try? JSONDecoder().decode(Marker.self, from: data), marker.vpp != nil else {
            return .asReceived(body)
        }
        do {
            return .decoded(try JSONDecoder().decode(MDMEvent.self, from: data))
        } catch {
            return .unreadable("a stored event this build cannot read (\(String(describing: error).prefix(120)))")
        }
    }
}

/// What an `mdm.Authenticate` check-in says about the device.
public struct MDMAuthentication: Hashable, Sendable, Codable {
    public let enrollmentID: EnrollmentID
    /// Nil when the device gave none (User Enrollment) or one that is not a serial number.
    public let serial: SerialNumber?
    public let model: String?
    public let productName: String?
    public let osVersion: String?

    public init(
        enrollmentID: EnrollmentID,
        serial: SerialNumber?,
        model: String?,
        productName: String?,
        osVersion: String?
    ) {
        self.enrollmentID = enrollmentID
        self.serial = serial
        self.model = model
        self.productName = productName
        self.osVersion = osVersion
    }
}

/// A device's answer to a command (`mdm.Connect`'s `acknowledge_event`).
public struct MDMCommandResult: Hashable, Sendable, Codable {
    /// The statuses Apple's MDM protocol defines for a command result.
    public enum Status: String, Hashable, Sendable, Codable, CaseIterable {
        case acknowledged = "Acknowledged"
        case error = "Error"
        case commandFormatError = "CommandFormatError"
        case notNow = "NotNow"
        case idle = "Idle"
    }

    /// Nil when the MDM server named no device.
    public let enrollmentID: EnrollmentID?
    public let status: Status
    /// Nil for Idle, or when the id is not a UUID (then it is not one of vpp's commands).
    public let commandUUID: UUID?
    /// The result's `ErrorChain` in words, when it has one.
    public let errorChain: String?
    /// The apps an InstalledApplicationList result lists; nil for other results.
    public let installedApps: [InstalledApp]?

    public init(
        enrollmentID: EnrollmentID?,
        status: Status,
        commandUUID: UUID?,
        errorChain: String? = nil,
        installedApps: [InstalledApp]? = nil
    ) {
        self.enrollmentID = enrollmentID
        self.status = status
        self.commandUUID = commandUUID
        self.errorChain = errorChain
        self.installedApps = installedApps
    }
}

/// One item of an InstalledApplicationList result.
public struct InstalledApp: Hashable, Sendable, Codable {
    public let identifier: String
    public let installing: Bool
    public let downloadFailed: Bool
    /// Nil when the device did not say (counted as device-based, as before).
    public let deviceBasedVPP: Bool?

    public init(identifier: String, installing: Bool = false, downloadFailed: Bool = false, deviceBasedVPP: Bool?) {
        self.identifier = identifier
        self.installing = installing
        self.downloadFailed = downloadFailed
        self.deviceBasedVPP = deviceBasedVPP
    }
}

/// Why a webhook body is refused at the edge (400 `bad_mdm_event`; nothing is recorded).
public struct MalformedMDMEvent: Error, Hashable, Sendable, CustomStringConvertible {
    public let reason: String

    public init(_ reason: String) { self.reason = reason }

    public var description: String { "Not a usable MicroMDM-compatible webhook event: \(reason)." }
}
