import Foundation
import Testing
import VPPDomain
import VPPUseCases

@Suite("MDM command plists")
struct MDMPayloadTests {
    func parse(_ data: Data) throws -> [String: Any] {
        try #require(try PropertyListSerialization.propertyList(from: data, options: [], format: nil) as? [String: Any])
    }

    @Test(
        "InstallApplication: integer iTunesStoreID, PurchaseMethod 1, flags by platform, CommandUUID = row id"
    )
    func install() throws {
        let command = DeviceCommand(
            serialNumber: "C02XK1JHJG5J",
            kind: .installApplication,
            adamID: "408709785",
            createdAt: Date()
        )
        for (platform, flags) in [(DevicePlatform.iOS, 1), (.macOS, nil)] {
            let data = try MDMCommandPayload.plist(for: command, platform: platform, bundleID: nil)
            let text = String(decoding: data, as: UTF8.self)
            #expect(text.contains("<key>iTunesStoreID</key>\n\t\t<integer>408709785</integer>"))
            #expect(text.contains("<key>PurchaseMethod</key>\n\t\t\t<integer>1</integer>"))
            let plist = try parse(data)
            #expect(plist["CommandUUID"] as? String == command.id.uuidString.uppercased())
            let body = try #require(plist["Command"] as? [String: Any])
            #expect(body["RequestType"] as? String == "InstallApplication")
            #expect(body["iTunesStoreID"] as? Int == 408_709_785)
            #expect((body["Options"] as? [String: Any])?["PurchaseMethod"] as? Int == 1)
            #expect(body["ManagementFlags"] as? Int == flags)
            #expect(body["InstallAsManaged"] as? Bool == (platform == .macOS ? true : nil))
            #expect(body["ChangeManagementState"] as? String == "Managed")
        }
        let bad = DeviceCommand(
            serialNumber: "C02XK1JHJG5J",
            kind: .installApplication,
            adamID: "12ab",
            createdAt: Date()
        )
        #expect(throws: MDMCommandPayload.PayloadError.adamIDNotNumeric("12ab")) {
            try MDMCommandPayload.plist(for: bad, platform: .iOS, bundleID: nil)
        }
    }

    @Test(
        "RemoveApplication names the bundle id (escaped); refused without one; InstalledApplicationList asks for managed apps only"
    )
    func removeAndList() throws {
        let remove = DeviceCommand(
            serialNumber: "C02XK1JHJG5J",
            kind: .removeApplication,
            adamID: "1",
            createdAt: Date()
        )
        let body = try #require(
            try parse(MDMCommandPayload.plist(for: remove, platform: .iOS, bundleID: "com.a&b<c>"))["Command"]
                as? [String: Any]
        )
        #expect(body["RequestType"] as? String == "RemoveApplication" && body["Identifier"] as? String == "com.a&b<c>")
        #expect(throws: MDMCommandPayload.PayloadError.missingBundleID(adamID: "1")) {
            try MDMCommandPayload.plist(for: remove, platform: .iOS, bundleID: nil)
        }
        let list = DeviceCommand(
            serialNumber: "C02XK1JHJG5J",
            kind: .installedApplicationList,
            adamID: "",
            createdAt: Date()
        )
        let listBody = try #require(
            try parse(MDMCommandPayload.plist(for: list, platform: .macOS, bundleID: nil))["Command"] as? [String: Any]
        )
        #expect(
            listBody["RequestType"] as? String == "InstalledApplicationList"
                && listBody["ManagedAppsOnly"] as? Bool == true
        )
    }

    @Test("durations: 0, seconds, minutes, hours, days; anything else refused naming the text")
    func durations() throws {
        #expect(try MDMError.duration("0") == 0)
        #expect(try MDMError.duration("90s") == 90)
        #expect(try MDMError.duration("30m") == 1800)
        #expect(try MDMError.duration("24h") == 86400)
        #expect(try MDMError.duration("7d") == 604_800)
        for bad in ["", "-1h", "abc", "1w", "1e9d", "nan"] {
            #expect(throws: MDMError.badDuration(bad)) { try MDMError.duration(bad) }
        }
    }
}
