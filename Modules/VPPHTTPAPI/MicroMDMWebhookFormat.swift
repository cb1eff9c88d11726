import Foundation
import VPPDomain
import VPPUseCases

/// The edge of the MDM server's webhook (NanoMDM, NanoHUB, MicroMDM): the JSON envelope and the check-in plist it
/// carries in base64 (`raw_payload`) are decoded into an ``MDMEvent`` and checked (enrollment ids, statuses, the
/// status report) before the use case or the database sees them, as ``AppleWebhookGate`` does for Apple's. A topic
/// vpp does not act on is not refused: it decodes as ``MDMEvent/Kind/other``.
public struct MicroMDMWebhookFormat: MDMWebhookFormat {
    public init() {}

    public func event(from body: [UInt8]) throws(MalformedMDMEvent) -> MDMEvent {
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: Data(body))
        } catch let error as DecodingError {
            throw MalformedMDMEvent(AppleWebhookGate.describe(error))
        } catch {
            throw MalformedMDMEvent("the body is not JSON")
        }
        let topic = envelope.topic
        guard !topic.isEmpty, topic.count <= MDMEvent.maximumTopicLength else {
            throw MalformedMDMEvent("topic must be 1 to \(MDMEvent.maximumTopicLength) characters")
        }
        if let eventID = envelope.eventID, eventID.count > 200 {
            throw MalformedMDMEvent("event_id is longer than 200 characters")
        }
        return MDMEvent(topic: topic, eventID: envelope.eventID, kind: try kind(of: envelope))
    }

    func kind(of envelope: Envelope) throws(MalformedMDMEvent) -> MDMEvent.Kind {
        switch envelope.topic {
        case "mdm.Authenticate":
            let checkIn = try Self.required(envelope.checkinEvent, "checkin_event")
            let payload = try Self.plist(checkIn.rawPayload, required: true) ?? [:]
            let serial = (payload["SerialNumber"] as? String).flatMap { try? SerialNumber($0) }
            return .authenticate(
                MDMAuthentication(
                    enrollmentID: try Self.enrollmentID(
                        udid: checkIn.udid ?? payload["UDID"] as? String,
                        enrollmentID: checkIn.enrollmentID
                    ),
                    serial: serial,
                    model: payload["Model"] as? String,
                    productName: payload["ProductName"] as? String,
                    osVersion: payload["OSVersion"] as? String
                )
            )
        case "mdm.TokenUpdate":
            let checkIn = try Self.required(envelope.checkinEvent, "checkin_event")
            return .tokenUpdate(
                enrollmentID: try Self.enrollmentID(udid: checkIn.udid, enrollmentID: checkIn.enrollmentID),
                tally: checkIn.tokenUpdateTally
            )
        case "mdm.CheckOut":
            let checkIn = try Self.required(envelope.checkinEvent, "checkin_event")
            return .checkOut(
                enrollmentID: try Self.enrollmentID(udid: checkIn.udid, enrollmentID: checkIn.enrollmentID)
            )
        case "mdm.DeclarativeManagement":
            let checkIn = try Self.required(envelope.checkinEvent, "checkin_event")
            let payload = try Self.plist(checkIn.rawPayload, required: true) ?? [:]
            return try Self.declarative(checkIn, payload)
        case "mdm.Connect":
            return .commandResult(try Self.result(try Self.required(envelope.acknowledgeEvent, "acknowledge_event")))
        default:
            return .other
        }
    }

    /// A DeclarativeManagement check-in as NanoMDM forwards it: only the `status` endpoint carries a report (`Data`:
    /// the report's JSON, a plist `<data>`, or base64 text from a relay that re-encoded it).
    static func declarative(
        _ checkIn: Envelope.CheckIn,
        _ payload: [String: Any]
    ) throws(MalformedMDMEvent)
        -> MDMEvent.Kind
    {
        let id = try enrollmentID(
            udid: checkIn.udid ?? payload["UDID"] as? String,
            enrollmentID: checkIn.enrollmentID ?? payload["EnrollmentID"] as? String
        )
        let endpoint = payload["Endpoint"] as? String ?? ""
        guard endpoint.count <= 100 else { throw MalformedMDMEvent("Endpoint is longer than 100 characters") }
        guard endpoint == "status" else {
            return .declarativeManagement(enrollmentID: id, endpoint: endpoint, apps: nil)
        }
        let data = payload["Data"] as? Data ?? (payload["Data"] as? String).flatMap { Data(base64Encoded: $0) }
        guard let data else { throw MalformedMDMEvent("a status report without Data") }
        do {
            let apps = try DeclarativeStatusReport.managedApps(data)
            return .declarativeManagement(enrollmentID: id, endpoint: endpoint, apps: apps)
        } catch {
            throw MalformedMDMEvent("\(error)")
        }
    }

    static func result(_ ack: Envelope.Acknowledge) throws(MalformedMDMEvent) -> MDMCommandResult {
        // A result may name no device (it is then matched by its command alone).
        let named = [ack.udid, ack.enrollmentID].contains { !($0 ?? "").isEmpty }
        let id = named ? try enrollmentID(udid: ack.udid, enrollmentID: ack.enrollmentID) : nil
        guard let text = ack.status, let status = MDMCommandResult.Status(rawValue: text) else {
            let known = MDMCommandResult.Status.allCases.map(\.rawValue).joined(separator: ", ")
            throw MalformedMDMEvent("acknowledge_event.status must be one of \(known)")
        }
        let payload = try plist(ack.rawPayload, required: false)
        return MDMCommandResult(
            enrollmentID: id,
            status: status,
            commandUUID: ack.commandUUID.flatMap(UUID.init(uuidString:)),
            errorChain: errorChain(payload),
            installedApps: try installedApps(payload)
        )
    }

    static func installedApps(_ payload: [String: Any]?) throws(MalformedMDMEvent) -> [InstalledApp]? {
        guard let list = payload?["InstalledApplicationList"] else { return nil }
        guard let items = list as? [[String: Any]] else {
            throw MalformedMDMEvent("InstalledApplicationList is not a list of dictionaries")
        }
        // An item without an identifier cannot be matched to an app; it was skipped before, and still is.
        return items.compactMap { item in
            guard let identifier = item["Identifier"] as? String, !identifier.isEmpty else { return nil }
            return InstalledApp(
                identifier: String(identifier.prefix(255)),
                installing: item["Installing"] as? Bool == true,
                downloadFailed: item["DownloadFailed"] as? Bool == true,
                deviceBasedVPP: item["DeviceBasedVPP"] as? Bool
            )
        }
    }

    static func errorChain(_ payload: [String: Any]?) -> String? {
        guard let chain = payload?["ErrorChain"] as? [[String: Any]], !chain.isEmpty else { return nil }
        return chain.map { entry in
            let code = (entry["ErrorCode"] as? Int).map { " (\($0))" } ?? ""
            return "\(entry["LocalizedDescription"] as? String ?? entry["ErrorDomain"] as? String ?? "error")\(code)"
        }.joined(separator: "; ")
    }

    static func required<T>(_ value: T?, _ field: String) throws(MalformedMDMEvent) -> T {
        guard let value else { throw MalformedMDMEvent("\(field) is missing") }
        return value
    }

    /// The UDID when there is one, else the enrollment id (a User Enrollment's), in the documented shape: the id
    /// goes into the URL of every command sent to the device, so `X/../../admin/reset` never reaches the inventory.
    static func enrollmentID(udid: String?, enrollmentID: String?) throws(MalformedMDMEvent) -> EnrollmentID {
        let text: String
        if let udid, !udid.isEmpty {
            text = udid
        } else if let enrollmentID, !enrollmentID.isEmpty {
            text = enrollmentID
        } else {
            throw MalformedMDMEvent("no enrollment id (udid or enrollment_id)")
        }
        do {
            return try EnrollmentID(text)
        } catch {
            throw MalformedMDMEvent("\(error)")
        }
    }

    /// The check-in plist in `raw_payload` (base64). Empty or absent: nil, unless `required`.
    static func plist(_ base64: String?, required: Bool) throws(MalformedMDMEvent) -> [String: Any]? {
        guard let base64, !base64.isEmpty else {
            if required { throw MalformedMDMEvent("raw_payload is missing") }
            return nil
        }
        guard let data = Data(base64Encoded: base64) else { throw MalformedMDMEvent("raw_payload is not base64") }
        let object = try? PropertyListSerialization.propertyList(from: data, options: [], format: nil)
        guard let dictionary = object as? [String: Any] else {
            throw MalformedMDMEvent("raw_payload is not a property list dictionary")
        }
        return dictionary
    }

    /// The MicroMDM-compatible envelope (only the fields vpp reads).
    struct Envelope: Decodable {
        struct CheckIn: Decodable {
            let udid: String?
            let enrollmentID: String?
            let rawPayload: String?
            let tokenUpdateTally: Int?

            enum CodingKeys: String, CodingKey {
                case udid
                case enrollmentID = "enrollment_id"
                case rawPayload = "raw_payload"
                case tokenUpdateTally = "token_update_tally"
            }
        }

        struct Acknowledge: Decodable {
            let udid: String?
            let enrollmentID: String?
            let status: String?
            let commandUUID: String?
            let rawPayload: String?

            enum CodingKeys: String, CodingKey {
                case udid, status
                case enrollmentID = "enrollment_id"
                case commandUUID = "command_uuid"
                case rawPayload = "raw_payload"
            }
        }

        let topic: String
        let eventID: String?
        let checkinEvent: CheckIn?
        let acknowledgeEvent: Acknowledge?

        enum CodingKeys: String, CodingKey {
            case topic
            case eventID = "event_id"
            case checkinEvent = "checkin_event"
            case acknowledgeEvent = "acknowledge_event"
        }
    }
}
