import Foundation
import VPPDomain

extension ProcessMDMEvents {
    /// A DeclarativeManagement check-in as NanoMDM forwards it: `MessageType` DeclarativeManagement; only the
    /// `status` endpoint carries a report (`Data`: the report's JSON, a plist `<data>`). Other endpoints (tokens,
    /// declaration-items, a declaration fetch) are the DDM server's business and ignored here.
    func declarativeStatus(
        _ checkIn: Envelope.CheckIn,
        _ payload: [String: Any],
        _ tx: any TenantTransaction,
        now: Date,
        reports: inout [RecordDeviceStatus.Recorded]
    ) async throws -> (MDMEventState, String) {
        guard
            let id = Self.enrollmentID(
                udid: checkIn.udid ?? payload["UDID"] as? String,
                enrollmentID: checkIn.enrollmentID ?? payload["EnrollmentID"] as? String
            )
        else {
            return (.ignored, "malformed: DeclarativeManagement without an enrollment id")
        }
        if let refused = Self.refusal(id) { return (.ignored, refused) }
        let endpoint = payload["Endpoint"] as? String ?? ""
        guard endpoint == "status" else {
            return (.ignored, "declarative endpoint \(endpoint.prefix(40)) is not used by vpp")
        }
        // Property lists carry `Data` as bytes; a relay that re-encoded it may hand over base64 text.
        let data = payload["Data"] as? Data ?? (payload["Data"] as? String).flatMap { Data(base64Encoded: $0) }
        guard let data else { return (.ignored, "malformed: status report without Data") }
        guard let device = try await tx.device(enrollmentID: id) else { return (.ignored, "unknown device \(id)") }
        let apps: [ManagedAppStatus]
        do {
            apps = try DeclarativeStatusReport.managedApps(data)
        } catch {
            return (.ignored, "unreadable status report: \(error)")
        }
        let recorded = try await RecordDeviceStatus.record(
            tx,
            serial: device.serialNumber,
            apps,
            now: now,
            maxAttempts: statusRecorder?.healer?.maxAttempts ?? 0,
            lease: statusRecorder?.healer?.lease ?? 300
        )
        reports.append(recorded)
        let outcome = recorded.outcome
        return (
            .processed,
            "status of \(device.serialNumber.value): \(outcome.recorded.count) app(s) recorded, "
                + "\(recorded.claimed.count) heal(s), \(outcome.ignored) ignored"
        )
    }
}
