import Foundation
import VPPDomain

extension ProcessMDMEvents {
    /// A DeclarativeManagement check-in to the `status` endpoint, its report decoded at the edge.
    func declarativeStatus(
        _ enrollmentID: EnrollmentID,
        _ apps: [ManagedAppStatus],
        _ tx: any TenantTransaction,
        now: Date,
        reports: inout [RecordDeviceStatus.Recorded]
    ) async throws -> (MDMEventState, String) {
        let id = enrollmentID.value
        guard let device = try await tx.device(enrollmentID: id) else { return (.ignored, "unknown device \(id)") }
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
