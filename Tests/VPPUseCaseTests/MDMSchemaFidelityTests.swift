import Foundation
import Testing
import VPPDomain
import VPPUseCases

/// Every command plist vpp builds, read back and checked against Apple's schema facts (apple/device-management
/// `mdm/commands/application.install.yaml`, `application.remove.yaml`, `application.installed.list.yaml`,
/// copied here by hand so the check does not share the builder's table): each key is known, of its type, one of
/// its listed values, and exists on the device's platform at the OS version it reported.
@Suite("MDM command plists against Apple's schema, per platform and OS version")
struct MDMSchemaFidelityTests {
    /// The plist element each type is written as.
    enum KeyType: String { case integer, string, boolean = "true|false", dictionary = "dict" }

    /// One key's facts: its type, its allowed values (nil: any), the first version per platform (nil: n/a).
    struct KeyFacts {
        let type: KeyType
        let allowed: [String]?
        let iOS: String?
        let macOS: String?
    }

    struct CommandFacts {
        let iOS: String?
        let macOS: String?
        let keys: [String: KeyFacts]
    }

    static let schema: [DeviceCommand.Kind: CommandFacts] = [
        .installApplication: CommandFacts(
            iOS: "5.0",
            macOS: "10.9",
            keys: [
                "iTunesStoreID": KeyFacts(type: .integer, allowed: nil, iOS: "5.0", macOS: "10.9"),
                "Options": KeyFacts(type: .dictionary, allowed: nil, iOS: "7.0", macOS: "10.9"),
                "Options.PurchaseMethod": KeyFacts(type: .integer, allowed: ["0", "1"], iOS: "7.0", macOS: "10.9"),
                "ManagementFlags": KeyFacts(type: .integer, allowed: ["1", "4", "5"], iOS: "5.0", macOS: "11.0"),
                "ChangeManagementState": KeyFacts(type: .string, allowed: ["Managed"], iOS: "9.0", macOS: "11.0"),
                "InstallAsManaged": KeyFacts(type: .boolean, allowed: nil, iOS: nil, macOS: "11.0"),
            ]
        ),
        .removeApplication: CommandFacts(
            iOS: "5.0",
            macOS: "11.0",
            keys: ["Identifier": KeyFacts(type: .string, allowed: nil, iOS: "5.0", macOS: "11.0")]
        ),
        .installedApplicationList: CommandFacts(
            iOS: "5.0",
            macOS: "10.7",
            keys: ["ManagedAppsOnly": KeyFacts(type: .boolean, allowed: nil, iOS: "7.0", macOS: "10.15")]
        ),
    ]

    /// The versions devices report, oldest to newest, and nil (a device whose version vpp has not seen).
    static let versions: [DevicePlatform: [String?]] = [
        .iOS: ["6.1", "8.4", "9.3.5", "12.5.7", "17.2", "18.4", "26.0", nil],
        .macOS: ["10.12", "10.14.6", "10.15.7", "11.0", "11.7.10", "14.4", "26.0", nil],
    ]

    static func supported(_ introduced: String?, at version: String?) -> Bool {
        guard let introduced else { return false }
        guard let version else { return true }
        return OSVersion(version)! >= OSVersion(introduced)!
    }

    /// The element written after each `<key>` in the XML: the type the device reads, whatever Foundation bridges.
    static func elements(_ xml: String) -> [String: String] {
        let pattern = try! NSRegularExpression(pattern: "<key>([A-Za-z]+)</key>\\s*<([a-z]+)")
        let range = NSRange(xml.startIndex..., in: xml)
        var found: [String: String] = [:]
        for match in pattern.matches(in: xml, range: range) {
            found[String(xml[Range(match.range(at: 1), in: xml)!])] = String(xml[Range(match.range(at: 2), in: xml)!])
        }
        return found
    }

    /// Every violation of the facts in `body` (flattened one level: `Options.PurchaseMethod`).
    static func violations(
        _ body: [String: Any],
        xml: String,
        facts: CommandFacts,
        platform: DevicePlatform,
        version: String?
    ) -> [String] {
        let written = elements(xml)
        var flat: [(name: String, key: String, value: Any)] = []
        for (key, value) in body where key != "RequestType" {
            flat.append((key, key, value))
            if let nested = value as? [String: Any] { flat += nested.map { ("\(key).\($0.key)", $0.key, $0.value) } }
        }
        return flat.compactMap { name, key, value -> String? in
            guard let facts = facts.keys[name] else { return "\(name): not in the schema" }
            guard let element = written[key], facts.type.rawValue.split(separator: "|").contains(Substring(element))
            else { return "\(name): written as <\(written[key] ?? "?")>, the schema says \(facts.type)" }
            let text = (value as? String) ?? (value as? Int).map(String.init) ?? "\(value)"
            if let allowed = facts.allowed, !allowed.contains(text) {
                return "\(name): \(text) is not one of \(allowed)"
            }
            let introduced = platform == .macOS ? facts.macOS : facts.iOS
            if !supported(introduced, at: version) {
                return "\(name): not on \(platform) \(version ?? "?") (introduced \(introduced ?? "n/a"))"
            }
            return nil
        }
    }

    @Test("every command, platform and OS version: only known keys, right types, listed values, supported there")
    func everyPayload() throws {
        var checked = 0
        for (kind, facts) in Self.schema {
            let command = DeviceCommand(
                serialNumber: "C02XK1JHJG5J",
                kind: kind,
                adamID: kind == .installedApplicationList ? "" : "408709785",
                createdAt: Date()
            )
            for (platform, versions) in Self.versions {
                for version in versions {
                    let commandExists = Self.supported(platform == .macOS ? facts.macOS : facts.iOS, at: version)
                    let build = {
                        try MDMCommandPayload.plist(
                            for: command,
                            platform: platform,
                            osVersion: version.flatMap(OSVersion.init),
                            bundleID: "com.example.app"
                        )
                    }
                    guard commandExists else {
                        #expect(throws: MDMCommandPayload.PayloadError.self, "\(kind) on \(platform) \(version!)") {
                            try build()
                        }
                        continue
                    }
                    let data = try build()
                    let plist = try #require(
                        try PropertyListSerialization.propertyList(from: data, format: nil) as? [String: Any]
                    )
                    let body = try #require(plist["Command"] as? [String: Any])
                    #expect(body["RequestType"] as? String == kind.rawValue)
                    let found = Self.violations(
                        body,
                        xml: String(decoding: data, as: UTF8.self),
                        facts: facts,
                        platform: platform,
                        version: version
                    )
                    #expect(found.isEmpty, "\(kind) on \(platform) \(version ?? "unknown"): \(found)")
                    checked += 1
                }
            }
        }
        #expect(checked == 3 * 16 - 3)  // RemoveApplication before macOS 11 (three versions) is refused
    }

    @Test("what the device needs is still sent: the VPP purchase method, management where the OS has it")
    func essentialsKept() throws {
        let install = DeviceCommand(
            serialNumber: "C02XK1JHJG5J",
            kind: .installApplication,
            adamID: "408709785",
            createdAt: Date()
        )
        func body(_ platform: DevicePlatform, _ version: String?) throws -> [String: Any] {
            let data = try MDMCommandPayload.plist(
                for: install,
                platform: platform,
                osVersion: version.flatMap(OSVersion.init),
                bundleID: nil
            )
            let plist = try PropertyListSerialization.propertyList(from: data, format: nil) as? [String: Any]
            return try #require(plist?["Command"] as? [String: Any])
        }
        let mac11 = try body(.macOS, "11.7.10")
        #expect(mac11["InstallAsManaged"] as? Bool == true && mac11["ChangeManagementState"] as? String == "Managed")
        #expect(mac11["ManagementFlags"] == nil)
        let mac12 = try body(.macOS, "10.12")
        #expect(mac12["InstallAsManaged"] == nil && mac12["ChangeManagementState"] == nil)
        #expect((mac12["Options"] as? [String: Any])?["PurchaseMethod"] as? Int == 1)
        let iPad = try body(.iOS, "17.2")
        #expect(iPad["ManagementFlags"] as? Int == 1 && iPad["InstallAsManaged"] == nil)
        #expect((iPad["Options"] as? [String: Any])?["PurchaseMethod"] as? Int == 1)
        #expect(iPad["ChangeManagementState"] as? String == "Managed")
    }

    @Test("platform from the reported model: VirtualMac2,1 and other Macs are macOS; iPads and iPhones are not")
    func platforms() {
        for model in ["VirtualMac2,1", "Mac14,2", "MacBookPro18,1", "iMac21,1", "Macmini9,1", "VMware7,1"] {
            #expect(DevicePlatform.from(productName: model) == .macOS, "\(model)")
        }
        for model in ["iPad13,4", "iPhone15,2", "AppleTV14,1", "RealityDevice14,1", nil] {
            #expect(DevicePlatform.from(productName: model) == .iOS, "\(model ?? "nil")")
        }
    }

    @Test("OS versions compare number by number; free text is not a version")
    func osVersions() {
        #expect(OSVersion("10.15.7")! < OSVersion("11.0")!)
        #expect(OSVersion("17.10")! > OSVersion("17.2")!)
        #expect(OSVersion("26")! == OSVersion(26))
        for bad in ["", "17.a", "1.2.3.4", "-1", "17..2", "１７.0"] { #expect(OSVersion(bad) == nil, "\(bad)") }
    }
}
