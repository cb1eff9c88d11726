import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat

/// A stand-in MDM server, written from the reference page alone (it shares no types with vpp's adapters):
/// NanoMDM's enqueue API, and simulated devices that enroll, check out, and answer commands by posting the
/// MicroMDM-compatible webhook, signed with `X-Hmac-Signature` like NanoMDM.
public actor MDMSimulator {
    /// How the enqueue API misbehaves.
    public enum Fault: String, Sendable, Codable, CaseIterable {
        case none
        /// Every request answers 503 and queues nothing (the server is down).
        case down
        /// Every request waits `delayMilliseconds` first.
        case slow
        /// Every request answers 500 with a command error and queues nothing.
        case error500 = "500"
        /// Every other command is refused with 207 and a per-id command error (a partial failure).
        case partial207 = "207"
    }

    /// What simulated devices answer to commands.
    public enum Behaviour: String, Sendable, Codable, CaseIterable {
        case acknowledge, error, notnow
        /// Never answer (the device is offline).
        case silent
    }

    public struct Command: Sendable, Codable, Equatable {
        public let commandUUID: String
        public let requestType: String
        public let iTunesStoreID: Int?
        public let purchaseMethod: Int?
        public let managementFlags: Int?
        public let identifier: String?
        public var status: String
    }

    public struct SimDevice: Sendable, Codable {
        public let serialNumber: String
        public let udid: String
        public let productName: String
        public var enrolled: Bool
        public var installed: [String]
        public var commands: [Command]
    }

    public struct Stats: Sendable, Codable {
        public var enqueueRequests = 0
        public var commandsQueued = 0
        public var duplicatesRefused = 0
        public var refusedByFault = 0
        public var webhooksSent = 0
        public var webhooksFailed = 0
    }

    var devices: [String: SimDevice] = [:]  // by UDID
    var commandUUIDs: Set<String> = []
    public private(set) var stats = Stats()
    var fault: Fault = .none
    var delayMilliseconds = 0
    var behaviour: Behaviour = .acknowledge
    var webhookURL: String?
    var hmacKey: String?
    let apiKey: String
    var ackDelayMilliseconds: Int
    var partialCounter = 0
    /// The declarative side: the KMFDDM-compatible store and the devices' declared apps.
    var ddm = DDMState()
    let logger: Logger
    let client: HTTPClient

    public init(
        apiKey: String,
        webhookURL: String? = nil,
        hmacKey: String? = nil,
        ackDelayMilliseconds: Int = 20,
        vppsimURL: String? = nil,
        logger: Logger
    ) {
        self.apiKey = apiKey
        self.webhookURL = webhookURL
        self.hmacKey = hmacKey
        self.ackDelayMilliseconds = ackDelayMilliseconds
        self.logger = logger
        client = Self.sharedClient
        ddm.vppsimURL = vppsimURL
    }

    /// One client for the process (an HTTPClient must outlive its users; simulators in tests come and go).
    static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    // MARK: Admin

    public func configure(webhookURL: String?, hmacKey: String?, ackDelayMilliseconds: Int?) {
        if let webhookURL { self.webhookURL = webhookURL }
        if let hmacKey { self.hmacKey = hmacKey.isEmpty ? nil : hmacKey }
        if let ackDelayMilliseconds { self.ackDelayMilliseconds = ackDelayMilliseconds }
    }

    public func setFault(_ fault: Fault, delayMilliseconds: Int) {
        self.fault = fault
        self.delayMilliseconds = delayMilliseconds
    }

    public func setBehaviour(_ behaviour: Behaviour) { self.behaviour = behaviour }

    public func allDevices() -> [SimDevice] { devices.values.sorted { $0.serialNumber < $1.serialNumber } }

    /// Makes `count` new devices and enrolls them (Authenticate, then TokenUpdate with tally 1), posting
    /// up to `concurrency` devices' webhooks at once. Returns the devices made.
    public func enroll(
        count: Int,
        serialPrefix: String,
        productName: String,
        concurrency: Int = 32
    ) async -> [SimDevice] {
        var made: [SimDevice] = []
        for _ in 0..<count {
            let serial =
                serialPrefix
                + String(
                    (0..<(12 - min(serialPrefix.count, 11))).map { _ in
                        "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789".randomElement()!
                    }
                )
            let udid =
                productName.lowercased().hasPrefix("mac")
                ? UUID().uuidString
                : (0..<40).map { _ in "0123456789abcdef".randomElement()! }.map(String.init).joined()
            let device = SimDevice(
                serialNumber: serial,
                udid: udid,
                productName: productName,
                enrolled: true,
                installed: [],
                commands: []
            )
            devices[udid] = device
            made.append(device)
        }
        let bodies = made.map { device in [Self.authenticate(device), Self.tokenUpdate(device)] }
        await withTaskGroup(of: Void.self) { group in
            var pending = bodies[...]
            func start(_ pair: [Data]) { group.addTask { for body in pair { await self.post(body) } } }
            for _ in 0..<concurrency { if let next = pending.popFirst() { start(next) } }
            while await group.next() != nil { if let next = pending.popFirst() { start(next) } }
        }
        return made
    }

    /// Re-enrolls a checked-out device (same UDID).
    public func reenroll(serial: String) async -> Bool {
        guard var device = devices.values.first(where: { $0.serialNumber == serial }) else { return false }
        device.enrolled = true
        devices[device.udid] = device
        await post(Self.authenticate(device))
        await post(Self.tokenUpdate(device))
        return true
    }

    /// The device leaves MDM: CheckOut is posted (as with `CheckOutWhenRemoved`); commands to it are refused after.
    public func checkOut(serial: String) async -> Bool {
        guard var device = devices.values.first(where: { $0.serialNumber == serial }) else { return false }
        device.enrolled = false
        devices[device.udid] = device
        await post(
            Self.checkIn(
                topic: "mdm.CheckOut",
                device,
                payload: ["MessageType": "CheckOut", "UDID": device.udid, "Topic": "com.apple.mgmt.sim"]
            )
        )
        return true
    }

    // MARK: NanoMDM's enqueue API

    /// Handles `PUT /v1/enqueue/{ids}`; returns the HTTP status and NanoMDM's JSON `APIResult`.
    public func enqueue(ids: [String], authorization: String?, body: Data) async -> (Int, Data) {
        let (status, object) = await enqueueResult(ids: ids, authorization: authorization, body: body)
        return (
            status, (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        )
    }

    func enqueueResult(ids: [String], authorization: String?, body: Data) async -> (Int, [String: Any]) {
        guard authorization == "Basic " + Data("nanomdm:\(apiKey)".utf8).base64EncodedString() else {
            return (401, ["error": "unauthorized"])
        }
        stats.enqueueRequests += 1
        if fault == .slow || delayMilliseconds > 0, delayMilliseconds > 0 {
            try? await Task.sleep(for: .milliseconds(delayMilliseconds))
        }
        switch fault {
        case .down:
            stats.refusedByFault += 1
            return (503, ["error": "service unavailable"])
        case .error500:
            stats.refusedByFault += 1
            return (500, ["command_error": "simulated storage failure"])
        default: break
        }
        guard
            let plist = (try? PropertyListSerialization.propertyList(from: body, options: [], format: nil))
                as? [String: Any],
            let uuid = plist["CommandUUID"] as? String, !uuid.isEmpty,
            let command = plist["Command"] as? [String: Any], let requestType = command["RequestType"] as? String,
            !requestType.isEmpty
        else { return (400, ["command_error": "command has no CommandUUID or RequestType"]) }
        if fault == .partial207 {
            partialCounter += 1
            if partialCounter % 2 == 0 {
                stats.refusedByFault += 1
                return (
                    207,
                    [
                        "command_uuid": uuid, "request_type": requestType,
                        "status": Dictionary(
                            uniqueKeysWithValues: ids.map { ($0, ["command_error": "simulated partial failure"]) }
                        ),
                    ]
                )
            }
        }
        // One CommandUUID once (the primary key in NanoMDM's stores).
        guard !commandUUIDs.contains(uuid) else {
            stats.duplicatesRefused += 1
            return (
                500,
                [
                    "command_uuid": uuid, "request_type": requestType,
                    "command_error": "duplicate key value violates unique constraint \"commands_pkey\"",
                ]
            )
        }
        var status: [String: Any] = [:]
        var failures = 0
        var accepted: [String] = []
        for id in ids {
            if let device = devices[id], device.enrolled {
                accepted.append(id)
                status[id] = ["push_result": "sim-push-\(uuid.prefix(8))"]
            } else {
                failures += 1
                status[id] = ["command_error": "enrollment \(id) not found"]
            }
        }
        if !accepted.isEmpty { commandUUIDs.insert(uuid) }
        let recorded = Command(
            commandUUID: uuid,
            requestType: requestType,
            iTunesStoreID: command["iTunesStoreID"] as? Int,
            purchaseMethod: (command["Options"] as? [String: Any])?["PurchaseMethod"] as? Int,
            managementFlags: command["ManagementFlags"] as? Int,
            identifier: command["Identifier"] as? String,
            status: "Queued"
        )
        for id in accepted {
            devices[id]?.commands.append(recorded)
            stats.commandsQueued += 1
            let delay = ackDelayMilliseconds
            Task {
                try? await Task.sleep(for: .milliseconds(delay))
                await self.answer(udid: id, uuid: uuid)
            }
        }
        let code = failures == 0 ? 200 : (accepted.isEmpty ? 500 : 207)
        return (code, ["command_uuid": uuid, "request_type": requestType, "status": status])
    }

    /// The device checks in and answers the command.
    func answer(udid: String, uuid: String) async {
        guard var device = devices[udid], device.enrolled,
            let index = device.commands.firstIndex(where: { $0.commandUUID == uuid })
        else { return }
        let command = device.commands[index]
        var payload: [String: Any] = ["CommandUUID": uuid, "UDID": udid]
        let status: String
        switch behaviour {
        case .silent: return
        case .notnow: status = "NotNow"
        case .error:
            status = "Error"
            payload["ErrorChain"] = [
                ["ErrorCode": 12064, "ErrorDomain": "MCMDMErrorDomain", "LocalizedDescription": "Simulated refusal"]
            ]
        case .acknowledge:
            status = "Acknowledged"
            switch command.requestType {
            case "InstallApplication":
                let bundle = "com.example.app\(command.iTunesStoreID ?? 0)"
                if !device.installed.contains(bundle) { device.installed.append(bundle) }
                payload["Identifier"] = bundle
                payload["State"] = "Managed"
            case "RemoveApplication":
                device.installed.removeAll { $0 == command.identifier }
            case "InstalledApplicationList":
                payload["InstalledApplicationList"] = device.installed.map { bundle in
                    [
                        "Identifier": bundle, "Name": bundle, "Version": "1.0", "ShortVersion": "1.0",
                        "Installing": false,
                        "DeviceBasedVPP": true,
                    ] as [String: Any]
                }
            default: break
            }
        }
        device.commands[index].status = status
        devices[udid] = device
        await post(Self.acknowledge(device, uuid: uuid, status: status, payload: payload))
    }

    // MARK: Webhook

    static func plistData(_ payload: [String: Any]) -> Data {
        (try? PropertyListSerialization.data(fromPropertyList: payload, format: .xml, options: 0)) ?? Data()
    }

    static func event(topic: String, key: String, object: [String: Any]) -> Data {
        let body: [String: Any] = [
            "topic": topic, "event_id": UUID().uuidString.lowercased(),
            "created_at": ISO8601DateFormatter().string(from: Date()), key: object,
        ]
        return (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
    }

    static func checkIn(topic: String, _ device: SimDevice, payload: [String: Any], tally: Int? = nil) -> Data {
        var object: [String: Any] = [
            "udid": device.udid, "url_params": NSNull(), "raw_payload": plistData(payload).base64EncodedString(),
        ]
        if let tally { object["token_update_tally"] = tally }
        return event(topic: topic, key: "checkin_event", object: object)
    }

    static func authenticate(_ device: SimDevice) -> Data {
        checkIn(
            topic: "mdm.Authenticate",
            device,
            payload: [
                "MessageType": "Authenticate", "Topic": "com.apple.mgmt.sim", "UDID": device.udid,
                "SerialNumber": device.serialNumber,
                "Model": device.productName, "ProductName": device.productName, "OSVersion": "17.5",
                "DeviceName": "Sim \(device.serialNumber)",
            ]
        )
    }

    static func tokenUpdate(_ device: SimDevice) -> Data {
        checkIn(
            topic: "mdm.TokenUpdate",
            device,
            payload: [
                "MessageType": "TokenUpdate", "Topic": "com.apple.mgmt.sim", "UDID": device.udid,
                "Token": Data(repeating: 1, count: 32),
                "PushMagic": UUID().uuidString,
            ],
            tally: 1
        )
    }

    static func acknowledge(_ device: SimDevice, uuid: String, status: String, payload: [String: Any]) -> Data {
        event(
            topic: "mdm.Connect",
            key: "acknowledge_event",
            object: [
                "udid": device.udid, "status": status, "command_uuid": uuid, "url_params": NSNull(),
                "raw_payload": plistData(payload.merging(["Status": status]) { $1 }).base64EncodedString(),
            ]
        )
    }

    /// Posts one event like NanoMDM: JSON, signed when a key is set, at most once (no retry).
    func post(_ body: Data) async {
        guard let webhookURL else { return }
        var request = HTTPClientRequest(url: webhookURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        if let hmacKey {
            let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(hmacKey.utf8)))
            request.headers.add(name: "X-Hmac-Signature", value: Data(mac).base64EncodedString())
        }
        request.body = .bytes(ByteBuffer(data: body))
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 1 << 16)
            if response.status.code == 200 { stats.webhooksSent += 1 } else { stats.webhooksFailed += 1 }
        } catch {
            stats.webhooksFailed += 1
            logger.warning("webhook failed", metadata: ["error": "\(error)"])
        }
    }
}
