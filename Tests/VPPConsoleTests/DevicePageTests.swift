import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

@testable import VPPConsole

@Suite("Console: the device page")
struct DevicePageTests {
    @Test("a device's apps: licence, delivery, install, declaration set and the device's last report; 404 otherwise")
    func devicePage() async throws {
        try await ConsoleHTTPTests.withConsole { world, client in
            let serial = try #require(try await world.addDevices(1).first)
            try await world.enrolledAndJoined(serial, enrollmentID: "UDID-7")
            let report = #"""
                {"StatusItems": {"app": {"managed": {"list": [{"identifier": "com.apple.Keynote",
                  "declaration-identifier": "vpp.app.408709785.STDQ.device", "state": "failed",
                  "reasons": [{"code": "Error.InstallFailed"}]}]}}}}
                """#
            _ = try await RecordDeviceStatus(store: world.store, clock: world.clock)(
                world.admin,
                enrollmentID: "UDID-7",
                report: Data(report.utf8)
            )
            var browser = ConsoleBrowser(client: client)
            _ = try await browser.signIn("reader")
            let list = String(buffer: try await browser.get("/console/devices").body)
            #expect(list.contains("href=\"/console/devices/\(serial.value)\""))
            let response = try await browser.get("/console/devices/\(serial.value)")
            let page = String(buffer: response.body)
            #expect(response.status == .ok)
            #expect(page.contains("UDID-7") && page.contains("408709785 (STDQ)") && page.contains("declaration"))
            #expect(page.contains("failed Error.InstallFailed") && page.contains("join queued"))
            #expect(page.contains("<td class=\"install\">error</td>"), "the install in the command path's words")
            let missing = try await browser.get("/console/devices/ZZZZ00000001")
            #expect(missing.status == .notFound)
        }
    }
}
