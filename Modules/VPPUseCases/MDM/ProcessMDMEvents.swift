import Foundation
import VPPDomain

/// Acts on recorded MDM webhook events, oldest first: enrollments, check-outs and command results.
/// Unknown topics, unknown devices, unknown commands and malformed payloads are marked ignored with the
/// reason; none is an error, so one bad event never blocks the queue.
public struct ProcessMDMEvents: Sendable {
    let store: any Store
    /// Events that are no longer pending are deleted this long after they arrived (with a clock to tell the time).
    public let retention: TimeInterval
    let clock: (any Clock)?
    /// How long after an acknowledged install vpp asks again for the installed apps, while the app is not there yet.
    public let verifyAgainAfter: TimeInterval = 30
    /// Records DeclarativeManagement status reports and heals what they claim (nil: status check-ins are ignored).
    public let statusRecorder: RecordDeviceStatus?

    /// Takes only what this use case touches.
    public init(
        store: any Store,
        clock: (any Clock)? = nil,
        retention: TimeInterval = 7 * 86_400,
        statusRecorder: RecordDeviceStatus? = nil
    ) {
        self.store = store
        self.clock = clock
        self.retention = retention
        self.statusRecorder = statusRecorder
    }

    /// Processes pending events in batches; returns how many were processed (not counting ignored ones).
    @discardableResult
    public func callAsFunction(_ tenantID: TenantID) async throws -> Int {
        var processed = 0
        while true {
            let (count, handled, reclaimAt, reports) = try await store.inTenant(tenantID) { tx in
                let events = try await tx.pendingMDMEvents(limit: 200)
                var handled = 0
                var reclaimAt: [Date] = []
                var reports: [RecordDeviceStatus.Recorded] = []
                let connection = try await tx.mdmConnection()?.connection
                for event in events {
                    let (state, detail) = try await handle(
                        event,
                        tx,
                        connection: connection,
                        reclaimAt: &reclaimAt,
                        reports: &reports
                    )
                    try await tx.markMDMEvent(event.id, state, detail: detail)
                    if state == .processed { handled += 1 }
                }
                return (events.count, handled, reclaimAt, reports)
            }
            processed += handled
            // Heals talk to Apple: after the reports are committed, never inside the transaction.
            if let statusRecorder {
                for recorded in reports where !recorded.claimed.isEmpty {
                    _ = await statusRecorder.heal(tenantID, recorded)
                }
            }
            for at in Set(reclaimAt) {
                try await store.jobs.enqueue(
                    JobRequest(
                        tenantID: tenantID,
                        kind: .reclaimUnenrolled,
                        key: .due(at),
                        runAt: at
                    )
                )
            }
            // Enrollments move dynamic groups (and a device named by a scope may just have arrived).
            if handled > 0 {
                try await RequestReconcile(store: store, clock: clock ?? SystemClock()).ifScoped(tenantID)
            }
            if count < 200 {
                try await prune(tenantID)
                return processed
            }
        }
    }

    /// Deletes events past the retention period, a bounded batch per run (the job runs every few seconds while
    /// events arrive, and once a window otherwise).
    func prune(_ tenantID: TenantID) async throws {
        guard let clock else { return }
        let cutoff = clock.now().addingTimeInterval(-retention)
        _ = try await store.inTenant(tenantID) { tx in
            try await tx.pruneMDMEvents(receivedBefore: cutoff, limit: 1000)
        }
    }

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
        let checkinEvent: CheckIn?
        let acknowledgeEvent: Acknowledge?

        enum CodingKeys: String, CodingKey {
            case topic
            case checkinEvent = "checkin_event"
            case acknowledgeEvent = "acknowledge_event"
        }
    }

    static func enrollmentID(udid: String?, enrollmentID: String?) -> String? {
        if let udid, !udid.isEmpty { return udid }
        if let enrollmentID, !enrollmentID.isEmpty { return enrollmentID }
        return nil
    }

    /// Why the event is refused when its enrollment id has not the documented shape, or `nil`. The id goes into
    /// the URL of every command sent to the device, so `X/../../admin/reset` must never reach the inventory.
    static func refusal(_ id: String) -> String? {
        do {
            _ = try EnrollmentID(id)
            return nil
        } catch {
            return "refused: \(error)"
        }
    }

    static func plist(_ base64: String?) -> [String: Any]? {
        guard let base64, let data = Data(base64Encoded: base64) else { return nil }
        return (try? PropertyListSerialization.propertyList(from: data, options: [], format: nil)) as? [String: Any]
    }

    func handle(
        _ event: MDMEventRecord,
        _ tx: any TenantTransaction,
        connection: MDMConnection?,
        reclaimAt: inout [Date],
        reports: inout [RecordDeviceStatus.Recorded]
    ) async throws -> (MDMEventState, String) {
        guard let envelope = try? JSONDecoder().decode(Envelope.self, from: Data(event.body.utf8)) else {
            return (.ignored, "malformed: not a MicroMDM-compatible webhook body")
        }
        let now = event.receivedAt
        switch envelope.topic {
        case "mdm.Authenticate":
            guard let checkIn = envelope.checkinEvent, let payload = Self.plist(checkIn.rawPayload) else {
                return (.ignored, "malformed: Authenticate without a readable raw_payload")
            }
            guard let serialText = payload["SerialNumber"] as? String, let serial = try? SerialNumber(serialText) else {
                return (.ignored, "no serial number (User Enrollment?)")
            }
            guard
                let id = Self.enrollmentID(
                    udid: checkIn.udid ?? payload["UDID"] as? String,
                    enrollmentID: checkIn.enrollmentID
                )
            else {
                return (.ignored, "malformed: no enrollment id")
            }
            if let refused = Self.refusal(id) { return (.ignored, refused) }
            let existing = try await tx.mdmDevice(serial: serial)
            var enrollment = existing?.enrollment ?? MDMEnrollment()
            // Authenticate starts an enrollment; only TokenUpdate completes it (a re-enrolling device stays as it
            // was until then).
            if enrollment.state == .manual || enrollment.state == .unenrolled && enrollment.enrollmentID != id {
                enrollment.state = .enrolling
            }
            if enrollment.state == .unenrolled { enrollment.state = .enrolling }
            enrollment.enrollmentID = id
            enrollment.model = payload["Model"] as? String ?? payload["ProductName"] as? String ?? enrollment.model
            enrollment.osVersion = payload["OSVersion"] as? String ?? enrollment.osVersion
            enrollment.platform = DevicePlatform.from(
                productName: payload["ProductName"] as? String ?? payload["Model"] as? String
            )
            enrollment.lastSeenAt = now
            try await tx.saveEnrollment(serial, enrollment)
            return (.processed, "serial \(serial.value) is enrollment \(id)")
        case "mdm.TokenUpdate":
            guard let checkIn = envelope.checkinEvent,
                let id = Self.enrollmentID(udid: checkIn.udid, enrollmentID: checkIn.enrollmentID)
            else { return (.ignored, "malformed: TokenUpdate without an enrollment id") }
            if let refused = Self.refusal(id) { return (.ignored, refused) }
            guard var device = try await tx.device(enrollmentID: id) else {
                return (.ignored, "unknown device \(id) (no Authenticate seen)")
            }
            // Tally 1 is NanoMDM's "enrollment just completed"; MicroMDM sends no tally, so its first TokenUpdate
            // counts.
            let completes =
                checkIn.tokenUpdateTally == 1
                || (checkIn.tokenUpdateTally == nil && device.enrollment.state != .enrolled)
            if completes || device.enrollment.state == .enrolling {
                device.enrollment.state = .enrolled
                device.enrollment.unenrolledAt = nil
            }
            device.enrollment.lastSeenAt = now
            try await tx.saveEnrollment(device.serialNumber, device.enrollment)
            return (.processed, "\(device.serialNumber.value) \(device.enrollment.state.rawValue)")
        case "mdm.CheckOut":
            guard let checkIn = envelope.checkinEvent,
                let id = Self.enrollmentID(udid: checkIn.udid, enrollmentID: checkIn.enrollmentID)
            else { return (.ignored, "malformed: CheckOut without an enrollment id") }
            if let refused = Self.refusal(id) { return (.ignored, refused) }
            guard var device = try await tx.device(enrollmentID: id) else { return (.ignored, "unknown device \(id)") }
            device.enrollment.state = .unenrolled
            device.enrollment.unenrolledAt = now
            device.enrollment.lastSeenAt = now
            try await tx.saveEnrollment(device.serialNumber, device.enrollment)
            reclaimAt.append(now.addingTimeInterval(connection?.reclaimAfter ?? 24 * 3600))
            return (.processed, "\(device.serialNumber.value) unenrolled")
        case "mdm.DeclarativeManagement":
            guard let checkIn = envelope.checkinEvent, let payload = Self.plist(checkIn.rawPayload) else {
                return (.ignored, "malformed: DeclarativeManagement without a readable raw_payload")
            }
            return try await declarativeStatus(checkIn, payload, tx, now: now, reports: &reports)
        case "mdm.Connect":
            guard let ack = envelope.acknowledgeEvent else {
                return (.ignored, "malformed: Connect without acknowledge_event")
            }
            return try await result(ack, tx, now: now)
        default:
            return (.ignored, "topic \(envelope.topic.prefix(60)) is not used by vpp")
        }
    }

    func result(
        _ ack: Envelope.Acknowledge,
        _ tx: any TenantTransaction,
        now: Date
    ) async throws -> (MDMEventState, String) {
        let id = Self.enrollmentID(udid: ack.udid, enrollmentID: ack.enrollmentID)
        if let id, let refused = Self.refusal(id) { return (.ignored, refused) }
        if let id, var device = try await tx.device(enrollmentID: id) {
            device.enrollment.lastSeenAt = now
            try await tx.saveEnrollment(device.serialNumber, device.enrollment)
        }
        let status = ack.status ?? ""
        guard status != "Idle" else { return (.processed, "idle check-in") }
        guard let text = ack.commandUUID, let uuid = UUID(uuidString: text),
            let record = try await tx.deviceCommandRecord(uuid)
        else {
            return (.ignored, "result for a command vpp did not send (\(ack.commandUUID?.prefix(40) ?? "none"))")
        }
        if let id, let sent = record.enrollmentID, sent != id {
            return (.ignored, "result from \(id) for a command sent to \(sent)")
        }
        // A late or repeated result never moves a command back from a final state.
        guard !record.state.isFinal || (record.state == .error && status == "Acknowledged") else {
            return (.ignored, "command already \(record.state.rawValue)")
        }
        switch status {
        case "Acknowledged":
            if record.command.kind == .installedApplicationList {
                try await tx.updateDeviceCommand(uuid, DeviceCommandUpdate(state: .acknowledged), at: now)
                let verified = try await installedApps(
                    Self.plist(ack.rawPayload),
                    serial: record.command.serialNumber,
                    tx,
                    now: now
                )
                return (.processed, "installed apps of \(record.command.serialNumber); \(verified) install(s) verified")
            }
            if record.state != .verified {
                try await tx.updateDeviceCommand(uuid, DeviceCommandUpdate(state: .acknowledged), at: now)
            }
            if record.command.kind == .installApplication {
                try await askForInstalledApps(record.command.serialNumber, tx, at: now)
            }
            return (.processed, "\(record.command.kind.rawValue) acknowledged")
        case "Error", "CommandFormatError":
            let reason = Self.errorChain(Self.plist(ack.rawPayload)) ?? status
            try await tx.updateDeviceCommand(uuid, DeviceCommandUpdate(state: .error, lastError: reason), at: now)
            return (.processed, "\(record.command.kind.rawValue) error: \(reason)")
        case "NotNow":
            try await tx.updateDeviceCommand(
                uuid,
                DeviceCommandUpdate(state: .notNow, lastError: "the device answered NotNow"),
                at: now
            )
            return (.processed, "not now")
        default:
            return (.ignored, "unknown status \(status.prefix(40))")
        }
    }

    static func errorChain(_ payload: [String: Any]?) -> String? {
        guard let chain = payload?["ErrorChain"] as? [[String: Any]], !chain.isEmpty else { return nil }
        return chain.map { entry in
            let code = (entry["ErrorCode"] as? Int).map { " (\($0))" } ?? ""
            return "\(entry["LocalizedDescription"] as? String ?? entry["ErrorDomain"] as? String ?? "error")\(code)"
        }.joined(separator: "; ")
    }

    /// Queues an InstalledApplicationList for the device unless one is already waiting.
    func askForInstalledApps(_ serial: String, _ tx: any TenantTransaction, at now: Date) async throws {
        let waiting = try await tx.deviceCommandRecords(
            DeviceCommandQuery(serialNumber: serial, states: [.queued, .delivered, .notNow])
        )
        .contains { $0.command.kind == .installedApplicationList }
        guard !waiting else { return }
        try await tx.enqueueDeviceCommands([
            DeviceCommand(serialNumber: serial, kind: .installedApplicationList, adamID: "", createdAt: now)
        ])
    }

    /// Records the device's apps and verifies its acknowledged installs; returns how many were verified.
    func installedApps(
        _ payload: [String: Any]?,
        serial text: String,
        _ tx: any TenantTransaction,
        now: Date
    ) async throws -> Int {
        guard let serial = try? SerialNumber(text), let items = payload?["InstalledApplicationList"] as? [[String: Any]]
        else { return 0 }
        // Only the apps the device lists (by bundle id), not the catalogue.
        let listed = items.compactMap { $0["Identifier"] as? String }
        let byBundle = Dictionary(
            try await tx.apps(bundleIDs: listed).compactMap { app in
                app.metadata?.bundleID.map { ($0, app.asset.key.adamID) }
            },
            uniquingKeysWith: { a, _ in a }
        )
        var installed: Set<String> = []
        var deviceBased: Set<String> = []
        var installing: Set<String> = []
        for item in items {
            guard let bundle = item["Identifier"] as? String, let adamID = byBundle[bundle] else { continue }
            if item["Installing"] as? Bool == true {
                installing.insert(adamID)
                continue
            }
            if item["DownloadFailed"] as? Bool == true { continue }
            installed.insert(adamID)
            if item["DeviceBasedVPP"] as? Bool != false { deviceBased.insert(adamID) }
        }
        try await tx.setInstalledApps(serial, adamIDs: installed, seenAt: now)
        var verified = 0
        var waiting = false
        let open = try await tx.deviceCommandRecords(
            DeviceCommandQuery(serialNumber: text, states: [.acknowledged, .delivered, .notNow])
        )
        for record in open where record.command.kind == .installApplication {
            if deviceBased.contains(record.command.adamID) {
                try await tx.updateDeviceCommand(record.command.id, DeviceCommandUpdate(state: .verified), at: now)
                verified += 1
            } else if record.state == .acknowledged {
                let since = record.updatedAt ?? record.command.createdAt
                if now.timeIntervalSince(since) > DeliveryPolicy.verificationTimeout {
                    let why =
                        installed.contains(record.command.adamID)
                        ? "installed, but not as a device-based VPP app"
                        : "not in InstalledApplicationList \(Int(DeliveryPolicy.verificationTimeout / 3600)) h "
                            + "after acknowledgement"
                    try await tx.updateDeviceCommand(
                        record.command.id,
                        DeviceCommandUpdate(state: .failed, lastError: why),
                        at: now
                    )
                } else {
                    waiting = true
                }
            }
        }
        if waiting {
            try await tx.enqueueDeviceCommands([
                DeviceCommand(
                    serialNumber: text,
                    kind: .installedApplicationList,
                    adamID: "",
                    createdAt: now.addingTimeInterval(verifyAgainAfter)
                )
            ])
        }
        return verified
    }
}
