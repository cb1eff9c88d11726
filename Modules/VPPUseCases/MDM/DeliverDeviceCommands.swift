import Foundation
import Logging
import VPPDomain

/// Hands a tenant's queued device commands to its MDM server.
///
/// Each command is claimed with a lease before it is sent, so two servers never send the same one at
/// once; a server that dies mid-delivery leaves the lease to expire and another sends it again with the
/// same `CommandUUID`, which the MDM server treats as the command it already has. Failures retry with
/// back-off and jitter and stay visible (attempts, next attempt, last error) until
/// ``DeliveryPolicy/deliveryTimeout`` fails them.
public struct DeliverDeviceCommands: Sendable {
    let store: any Store
    let clock: any Clock
    let secrets: any SecretBox
    let metadata: (any AppMetadataLookup)?
    let logger: Logger
    let deliveries: any DeviceCommandDeliveryFactory
    public let batchSize = 200

    /// Takes only what this use case touches.
    public init(
        store: any Store,
        clock: any Clock,
        secrets: any SecretBox,
        metadata: (any AppMetadataLookup)?,
        logger: Logger,
        deliveries: any DeviceCommandDeliveryFactory
    ) {
        self.store = store
        self.clock = clock
        self.secrets = secrets
        self.metadata = metadata
        self.logger = logger
        self.deliveries = deliveries
    }

    /// Counts of one run.
    public struct Outcome: Hashable, Sendable {
        public var delivered = 0, retried = 0, failed = 0, skipped = 0
        public init() {}
    }

    /// Delivers due commands until none is left (or a batch makes no progress). `owner` names this server's claims.
    @discardableResult
    public func callAsFunction(_ tenantID: TenantID, owner: String) async throws -> Outcome {
        var total = Outcome()
        for _ in 0..<50 {
            let outcome = try await deliverBatch(tenantID, owner: owner)
            total.delivered += outcome.delivered
            total.retried += outcome.retried
            total.failed += outcome.failed
            total.skipped += outcome.skipped
            if outcome.delivered + outcome.failed + outcome.skipped == 0 { break }
        }
        return total
    }

    func deliverBatch(_ tenantID: TenantID, owner: String) async throws -> Outcome {
        let now = clock.now()
        let (stored, claimed, devices, known) = try await store.inTenant(tenantID) { tx in
            guard let stored = try await tx.mdmConnection(), stored.connection.kind != .pull,
                stored.connection.disabledReason == nil
            else {
                return (nil as StoredMDMConnection?, [DeviceCommandRecord](), [String: Device](), [String: String]())
            }
            let claimed = try await tx.claimDueDeviceCommands(
                owner: owner,
                now: now,
                lease: DeliveryPolicy.claimLease,
                limit: batchSize
            )
            var devices: [String: Device] = [:]
            for serial in Set(claimed.map(\.command.serialNumber)) {
                if let number = try? SerialNumber(serial), let device = try await tx.mdmDevice(serial: number) {
                    devices[serial] = device
                }
            }
            // Only a removal needs its app's bundle id: read just those apps, not the catalogue.
            let removals = claimed.filter { $0.command.kind == .removeApplication }.map(\.command.adamID)
            let bundles = removals.isEmpty ? [:] : Self.bundleIDs(of: try await tx.apps(adamIDs: removals))
            return (stored, claimed, devices, bundles)
        }
        guard let stored, !claimed.isEmpty else { return Outcome() }
        let bundleIDs = await fetchMissingBundleIDs(tenantID, claimed, known: known)
        var outcome = Outcome()
        var updates: [(UUID, DeviceCommandUpdate)] = []
        var outgoing: [OutgoingDeviceCommand] = []
        for record in claimed {
            let command = record.command
            if command.kind == .installApplication, stored.connection.isLicenceOnly(adamID: command.adamID) {
                updates.append(
                    (command.id, DeviceCommandUpdate(state: .skipped, lastError: "licence-only mode: no install sent"))
                )
                outcome.skipped += 1
                continue
            }
            let expired = now.timeIntervalSince(command.createdAt) > DeliveryPolicy.deliveryTimeout
            if let device = devices[command.serialNumber], device.enrollment.state == .unenrolled,
                command.kind != .installApplication
            {
                // A removal or query for a device that left MDM can never arrive; an install waits in case it
                // re-enrolls.
                updates.append((command.id, DeviceCommandUpdate(state: .skipped, lastError: "the device left MDM")))
                outcome.skipped += 1
                continue
            }
            guard let device = devices[command.serialNumber], device.enrollment.state != .unenrolled,
                let enrollmentID = device.enrollment.enrollmentID
            else {
                let reason = "device \(command.serialNumber) is not enrolled in MDM (no enrollment id yet)"
                updates.append(
                    (
                        command.id,
                        expired
                            ? DeviceCommandUpdate(state: .failed, lastError: reason + "; delivery time-out passed")
                            : retry(reason, attempt: record.attempts, now: now, cap: 300)
                    )
                )
                if expired { outcome.failed += 1 } else { outcome.retried += 1 }
                continue
            }
            do {
                let plist = try MDMCommandPayload.plist(
                    for: command,
                    platform: device.enrollment.platform,
                    osVersion: device.enrollment.osVersion.flatMap(OSVersion.init),
                    bundleID: bundleIDs[command.adamID]
                )
                outgoing.append(
                    OutgoingDeviceCommand(
                        id: command.id,
                        tenantID: tenantID,
                        serialNumber: command.serialNumber,
                        enrollmentID: enrollmentID,
                        requestType: command.kind,
                        adamID: command.adamID,
                        plist: plist,
                        createdAt: command.createdAt
                    )
                )
            } catch let error as MDMCommandPayload.PayloadError where error.isPermanent {
                // The device's OS has no such command: no retry makes it deliverable.
                updates.append((command.id, DeviceCommandUpdate(state: .failed, lastError: "\(error)")))
                outcome.failed += 1
            } catch {
                // A missing bundle id may arrive with the next metadata sync: retry until the time-out.
                updates.append(
                    (
                        command.id,
                        expired
                            ? DeviceCommandUpdate(state: .failed, lastError: "\(error)")
                            : retry("\(error)", attempt: record.attempts, now: now, cap: 3600)
                    )
                )
                if expired { outcome.failed += 1 } else { outcome.retried += 1 }
            }
        }
        if !outgoing.isEmpty {
            let credentials = MDMCredentials(
                apiKey: try stored.secrets.apiKey.map(secrets.open),
                signingSecret: try stored.secrets.signingSecret.map(secrets.open)
            )
            let delivery = try deliveries.delivery(for: stored.connection, credentials: credentials)
            let results = await delivery.deliver(outgoing)
            let after = clock.now()
            var gone: String?
            for command in outgoing {
                let expired = after.timeIntervalSince(command.createdAt) > DeliveryPolicy.deliveryTimeout
                let attempt = claimed.first { $0.command.id == command.id }?.attempts ?? 1
                switch results[command.id] ?? .retry("no answer from the delivery adapter") {
                case .delivered:
                    updates.append(
                        (
                            command.id,
                            DeviceCommandUpdate(
                                state: .delivered,
                                deliveredAt: after,
                                enrollmentID: command.enrollmentID
                            )
                        )
                    )
                    outcome.delivered += 1
                case .refused(let reason):
                    updates.append(
                        (
                            command.id,
                            DeviceCommandUpdate(state: .failed, lastError: reason, enrollmentID: command.enrollmentID)
                        )
                    )
                    outcome.failed += 1
                case .retry(let reason, let delay):
                    if expired {
                        updates.append(
                            (
                                command.id,
                                DeviceCommandUpdate(state: .failed, lastError: reason + "; delivery time-out passed")
                            )
                        )
                        outcome.failed += 1
                    } else {
                        var update = retry(reason, attempt: attempt, now: after, cap: nil)
                        if let delay { update.nextAttemptAt = after.addingTimeInterval(max(delay, 1)) }
                        updates.append((command.id, update))
                        outcome.retried += 1
                    }
                case .endpointGone(let reason):
                    gone = reason
                    updates.append((command.id, retry(reason, attempt: attempt, now: after, cap: nil)))
                    outcome.retried += 1
                }
            }
            if let gone {
                logger.warning(
                    "MDM endpoint disabled",
                    metadata: ["tenant": "\(tenantID)", "reason": "\(gone)"]
                )
            }
            try await record(tenantID, owner: owner, updates, at: after, disable: gone)
            return outcome
        }
        try await record(tenantID, owner: owner, updates, at: now, disable: nil)
        return outcome
    }

    /// Adam id → bundle id of the apps whose metadata has one (the first pricing's when several do).
    static func bundleIDs(of apps: [AppRecord]) -> [String: String] {
        Dictionary(
            apps.compactMap { app in app.metadata?.bundleID.map { (app.asset.key.adamID, $0) } },
            uniquingKeysWith: { a, _ in a }
        )
    }

    /// RemoveApplication needs the app's bundle id: ask the store's metadata lookup for any not synced yet, and
    /// keep it.
    func fetchMissingBundleIDs(
        _ tenantID: TenantID,
        _ claimed: [DeviceCommandRecord],
        known: [String: String]
    ) async -> [String: String] {
        let missing = Set(
            claimed.filter { $0.command.kind == .removeApplication && known[$0.command.adamID] == nil }.map(
                \.command.adamID
            )
        )
        guard !missing.isEmpty, let lookup = metadata else { return known }
        do {
            let country =
                try await store.inTenant(tenantID) { tx in try await tx.tokens().first?.location.countryCode }
                ?? "US"
            let found = try await lookup.metadata(adamIDs: missing.sorted(), countryCode: country, credentials: nil)
            try await store.inTenant(tenantID) { tx in
                for (adamID, metadata) in found where metadata.bundleID != nil {
                    for app in try await tx.apps(adamIDs: [adamID]) {
                        try await tx.setMetadata(metadata, for: app.asset.key)
                    }
                }
            }
            return known.merging(found.compactMapValues(\.bundleID)) { old, _ in old }
        } catch {
            logger.info("app metadata lookup failed; removals wait for it", metadata: ["error": "\(error)"])
            return known
        }
    }

    func retry(_ reason: String, attempt: Int, now: Date, cap: TimeInterval?) -> DeviceCommandUpdate {
        var delay = DeliveryPolicy.retryDelay(attempt: attempt)
        if let cap { delay = min(delay, cap) }
        return DeviceCommandUpdate(
            state: .queued,
            nextAttemptAt: now.addingTimeInterval(delay),
            lastError: String(reason.prefix(500))
        )
    }

    func record(
        _ tenantID: TenantID,
        owner: String,
        _ updates: [(UUID, DeviceCommandUpdate)],
        at: Date,
        disable: String?
    ) async throws {
        guard !updates.isEmpty || disable != nil else { return }
        try await store.inTenant(tenantID) { tx in
            for (id, update) in updates { try await tx.finishDelivery(id, owner: owner, update, at: at) }
            if let disable {
                try await tx.disableMDMConnection(reason: disable)
                try await tx.appendAudit(
                    AuditRecord(
                        at: at,
                        actor: "vpp (background)",
                        entry: AuditEntry(.mdmDisable, .mdmWebhook, .disabled, disable)
                    )
                )
            }
        }
    }
}
