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
    /// Reads events recorded as received (MicroMDM JSON), before the HTTP edge decoded them; nil: such events are
    /// ignored. Events are pruned after the retention period, so this reader is needed for one period after the
    /// upgrade.
    let receivedForm: (any MDMWebhookFormat)?

    /// Takes only what this use case touches.
    public init(
        store: any Store,
        clock: (any Clock)? = nil,
        retention: TimeInterval = 7 * 86_400,
        statusRecorder: RecordDeviceStatus? = nil,
        receivedForm: (any MDMWebhookFormat)? = nil
    ) {
        self.store = store
        self.clock = clock
        self.retention = retention
        self.statusRecorder = statusRecorder
        self.receivedForm = receivedForm
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

    /// The event a record holds: vpp's own form, or the body as received read by ``receivedForm``.
    func event(of record: MDMEventRecord) -> Result<MDMEvent, MalformedMDMEvent> {
        switch MDMEvent.stored(record.body) {
        case .decoded(let event): return .success(event)
        case .unreadable(let reason): return .failure(MalformedMDMEvent(reason))
        case .asReceived(let body):
            guard let receivedForm else {
                return .failure(MalformedMDMEvent("recorded as received, and no reader for that form"))
            }
            return Result { () throws(MalformedMDMEvent) in try receivedForm.event(from: Array(body.utf8)) }
        }
    }

    func handle(
        _ record: MDMEventRecord,
        _ tx: any TenantTransaction,
        connection: MDMConnection?,
        reclaimAt: inout [Date],
        reports: inout [RecordDeviceStatus.Recorded]
    ) async throws -> (MDMEventState, String) {
        let decoded: MDMEvent
        switch event(of: record) {
        case .success(let value): decoded = value
        case .failure(let malformed): return (.ignored, "malformed: \(malformed.reason)")
        }
        let now = record.receivedAt
        switch decoded.kind {
        case .authenticate(let checkIn):
            guard let serial = checkIn.serial else { return (.ignored, "no serial number (User Enrollment?)") }
            let id = checkIn.enrollmentID.value
            let existing = try await tx.mdmDevice(serial: serial)
            var enrollment = existing?.enrollment ?? MDMEnrollment()
            // Authenticate starts an enrollment; only TokenUpdate completes it (a re-enrolling device stays as it
            // was until then).
            if enrollment.state == .manual || enrollment.state == .unenrolled && enrollment.enrollmentID != id {
                enrollment.state = .enrolling
            }
            if enrollment.state == .unenrolled { enrollment.state = .enrolling }
            enrollment.enrollmentID = id
            enrollment.model = checkIn.model ?? checkIn.productName ?? enrollment.model
            enrollment.osVersion = checkIn.osVersion ?? enrollment.osVersion
            enrollment.platform = DevicePlatform.from(productName: checkIn.productName ?? checkIn.model)
            enrollment.lastSeenAt = now
            try await tx.saveEnrollment(serial, enrollment)
            return (.processed, "serial \(serial.value) is enrollment \(id)")
        case .tokenUpdate(let enrollmentID, let tally):
            let id = enrollmentID.value
            guard var device = try await tx.device(enrollmentID: id) else {
                return (.ignored, "unknown device \(id) (no Authenticate seen)")
            }
            // Tally 1 is NanoMDM's "enrollment just completed"; MicroMDM sends no tally, so its first TokenUpdate
            // counts.
            let completes = tally == 1 || (tally == nil && device.enrollment.state != .enrolled)
            if completes || device.enrollment.state == .enrolling {
                device.enrollment.state = .enrolled
                device.enrollment.unenrolledAt = nil
            }
            device.enrollment.lastSeenAt = now
            try await tx.saveEnrollment(device.serialNumber, device.enrollment)
            return (.processed, "\(device.serialNumber.value) \(device.enrollment.state.rawValue)")
        case .checkOut(let enrollmentID):
            let id = enrollmentID.value
            guard var device = try await tx.device(enrollmentID: id) else { return (.ignored, "unknown device \(id)") }
            device.enrollment.state = .unenrolled
            device.enrollment.unenrolledAt = now
            device.enrollment.lastSeenAt = now
            try await tx.saveEnrollment(device.serialNumber, device.enrollment)
            reclaimAt.append(now.addingTimeInterval(connection?.reclaimAfter ?? 24 * 3600))
            return (.processed, "\(device.serialNumber.value) unenrolled")
        case .declarativeManagement(let enrollmentID, let endpoint, let apps):
            guard let apps else {
                return (.ignored, "declarative endpoint \(endpoint.prefix(40)) is not used by vpp")
            }
            return try await declarativeStatus(enrollmentID, apps, tx, now: now, reports: &reports)
        case .commandResult(let result):
            return try await self.result(result, tx, now: now)
        case .other:
            return (.ignored, "topic \(decoded.topic.prefix(60)) is not used by vpp")
        }
    }

    func result(
        _ result: MDMCommandResult,
        _ tx: any TenantTransaction,
        now: Date
    ) async throws -> (MDMEventState, String) {
        let id = result.enrollmentID?.value
        if let id, var device = try await tx.device(enrollmentID: id) {
            device.enrollment.lastSeenAt = now
            try await tx.saveEnrollment(device.serialNumber, device.enrollment)
        }
        guard result.status != .idle else { return (.processed, "idle check-in") }
        guard let uuid = result.commandUUID, let record = try await tx.deviceCommandRecord(uuid) else {
            let named = result.commandUUID.map { $0.uuidString.lowercased() } ?? "none"
            return (.ignored, "result for a command vpp did not send (\(named))")
        }
        if let id, let sent = record.enrollmentID, sent != id {
            return (.ignored, "result from \(id) for a command sent to \(sent)")
        }
        // A late or repeated result never moves a command back from a final state.
        guard !record.state.isFinal || (record.state == .error && result.status == .acknowledged) else {
            return (.ignored, "command already \(record.state.rawValue)")
        }
        switch result.status {
        case .acknowledged:
            if record.command.kind == .installedApplicationList {
                try await tx.updateDeviceCommand(uuid, DeviceCommandUpdate(state: .acknowledged), at: now)
                let verified = try await installedApps(
                    result.installedApps,
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
        case .error, .commandFormatError:
            let reason = result.errorChain ?? result.status.rawValue
            try await tx.updateDeviceCommand(uuid, DeviceCommandUpdate(state: .error, lastError: reason), at: now)
            return (.processed, "\(record.command.kind.rawValue) error: \(reason)")
        case .notNow:
            try await tx.updateDeviceCommand(
                uuid,
                DeviceCommandUpdate(state: .notNow, lastError: "the device answered NotNow"),
                at: now
            )
            return (.processed, "not now")
        case .idle:
            return (.processed, "idle check-in")
        }
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
        _ items: [InstalledApp]?,
        serial text: String,
        _ tx: any TenantTransaction,
        now: Date
    ) async throws -> Int {
        guard let serial = try? SerialNumber(text), let items else { return 0 }
        // Only the apps the device lists (by bundle id), not the catalogue.
        let listed = items.map(\.identifier)
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
            guard let adamID = byBundle[item.identifier] else { continue }
            if item.installing {
                installing.insert(adamID)
                continue
            }
            if item.downloadFailed { continue }
            installed.insert(adamID)
            if item.deviceBasedVPP != false { deviceBased.insert(adamID) }
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
