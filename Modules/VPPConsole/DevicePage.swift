import Foundation
import Hummingbird
import VPPDomain
import VPPUseCases

/// One app on the device page: the same facts as `GET /v1/devices/{serial}`, in words.
struct DeviceAppRow: Sendable {
    let app: String
    let href: String
    let licence: String
    let delivery: String
    let install: String
    let declaration: String
    let attempts: String
    let lastError: String
    let reported: String
    let heals: String

    init(_ app: DeviceDetailView.App) {
        self.app = "\(app.adamId) (\(app.pricingParam))"
        href = "/console/apps/\(app.adamId)?pp=\(app.pricingParam)"
        licence = [app.licence ?? "none", app.licenceReason ?? ""].filter { !$0.isEmpty }.joined(separator: ": ")
        delivery = app.delivery
        install = app.install ?? "—"
        declaration =
            app.join.map { join in "join \(join)" + (app.leave.map { ", leave \($0)" } ?? "") } ?? "—"
        attempts = app.attempts.map(String.init) ?? "—"
        lastError = app.lastError ?? ""
        reported =
            app.deviceState.map {
                ([$0] + app.deviceReasons).joined(separator: " ") + (app.reportedAt.map { " at \($0)" } ?? "")
            }
            ?? "nothing yet"
        heals =
            (app.healAttempts ?? 0) == 0
            ? "none" : "\(app.healAttempts ?? 0), \(app.heal ?? "")" + (app.healReason.map { ": \($0)" } ?? "")
    }
}

/// `/console/devices/{serial}`: the device, and each app's licence, declaration and the device's own report.
struct DevicePage: Sendable {
    let chrome: Chrome
    let serial: String
    let name: String
    let enrollment: String
    let udid: String
    let model: String
    let osVersion: String
    let lastSeen: String
    let apps: [DeviceAppRow]
    let empty: Bool

    static func render(_ console: Console, _ session: ConsoleSession, serial text: String) async throws -> Response {
        guard let serial = try? SerialNumber(text) else {
            throw ConsolePageError(status: .notFound, message: "No such device.")
        }
        let detail: DeviceDetailView
        do {
            detail = try await console.useCases.deviceDetail(session.caller, serial: serial)
        } catch StoreError.unknownDevice {
            throw ConsolePageError(status: .notFound, message: "No device \(serial.value) in the inventory.")
        }
        let device = detail.device
        let model = DevicePage(
            chrome: await console.chrome(session, title: "Device \(device.serialNumber)", section: "Devices"),
            serial: device.serialNumber,
            name: device.name ?? "—",
            enrollment: device.enrollment,
            udid: device.udid ?? "—",
            model: device.model ?? "—",
            osVersion: device.osVersion ?? "—",
            lastSeen: device.lastSeenAt ?? "—",
            apps: detail.apps.map(DeviceAppRow.init),
            empty: detail.apps.isEmpty
        )
        return console.renderer.page("device", model)
    }
}
