import Foundation
import Testing
import VPPDomain

/// The managed-app declaration vpp publishes, checked against facts from Apple's `app.managed.yaml` copied here
/// (not the model's own schema table): key names, types, listed values, one app source, a licence kind.
@Suite("Managed-app declaration: shape, identity, ServerToken, validation")
struct ManagedAppDeclarationTests {
    static let keynote = AssetKey(adamID: "361285480")

    func parse(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test(
        "every variant: Apple's key names and values; Identifier from app and licence kind; AppStoreID a string",
        arguments: [LicenceAssignmentKind.device, .user],
        [AppInstallPolicy.required, .optional]
    )
    func variants(assignment: LicenceAssignmentKind, install: AppInstallPolicy) throws {
        for (version, updates) in [(nil, nil), (862_000_123, nil), (nil, AutomaticAppUpdates.alwaysOff)] {
            let declaration = try ManagedAppDeclaration(
                asset: Self.keynote,
                assignment: assignment,
                install: install,
                version: version,
                automaticUpdates: updates
            )
            let document = try parse(try declaration.document(publication: 0))
            #expect(document["Type"] as? String == "com.apple.configuration.app.managed")
            #expect(Set(document.keys) == ["Type", "Identifier", "ServerToken", "Payload"])
            let kind = assignment == .device ? "device" : "user"
            #expect(document["Identifier"] as? String == "vpp.app.361285480.STDQ.\(kind)")
            let payload = try #require(document["Payload"] as? [String: Any])
            #expect(payload["AppStoreID"] as? String == "361285480")
            #expect(payload["BundleID"] == nil && payload["ManifestURL"] == nil)
            let behaviour = try #require(payload["InstallBehavior"] as? [String: Any])
            #expect(["Optional", "Required"].contains(behaviour["Install"] as? String ?? ""))
            #expect(behaviour["Install"] as? String == install.rawValue)
            #expect((behaviour["License"] as? [String: Any])?["Assignment"] as? String == assignment.rawValue)
            #expect(behaviour["Version"] as? Int == version)
            let update = payload["UpdateBehavior"] as? [String: Any]
            #expect(update?["AutomaticAppUpdates"] as? String == updates?.rawValue)
            let allowedPayload: Set<String> = ["AppStoreID", "InstallBehavior", "UpdateBehavior"]
            #expect(Set(payload.keys).isSubset(of: allowedPayload))
            #expect(Set(behaviour.keys).isSubset(of: ["Install", "License", "Version"]))
        }
    }

    @Test("ServerToken: same content same token; changed content or a re-publish gives a new one")
    func serverToken() throws {
        let base = try ManagedAppDeclaration(asset: Self.keynote, assignment: .device)
        let again = try ManagedAppDeclaration(asset: Self.keynote, assignment: .device)
        #expect(base.serverToken(publication: 0) == again.serverToken(publication: 0))
        #expect(base.identifier == again.identifier)
        var tokens: Set<String> = [base.serverToken(publication: 0), base.serverToken(publication: 1)]
        tokens.insert(
            try ManagedAppDeclaration(asset: Self.keynote, assignment: .device, install: .optional)
                .serverToken(publication: 0)
        )
        tokens.insert(
            try ManagedAppDeclaration(asset: Self.keynote, assignment: .device, version: 7)
                .serverToken(publication: 0)
        )
        tokens.insert(
            try ManagedAppDeclaration(
                asset: AssetKey(adamID: "361285480", pricingParam: .plus),
                assignment: .device
            ).serverToken(publication: 0)
        )
        #expect(tokens.count == 5)
        // The document carries the token it was built with, byte for byte the same each time.
        #expect(try base.document(publication: 3) == again.document(publication: 3))
        #expect(try parse(base.document(publication: 3))["ServerToken"] as? String == base.serverToken(publication: 3))
    }

    @Test("refused before it leaves: a non-numeric adamId, a version that is no EVID, updates with a pinned version")
    func refusals() {
        #expect(throws: DeclarationError.adamIDNotNumeric("12ab")) {
            try ManagedAppDeclaration(asset: AssetKey(adamID: "12ab"), assignment: .device)
        }
        #expect(throws: DeclarationError.invalidVersion(0)) {
            try ManagedAppDeclaration(asset: Self.keynote, assignment: .device, version: 0)
        }
        #expect(throws: DeclarationError.updateBehaviorWithVersion) {
            try ManagedAppDeclaration(asset: Self.keynote, assignment: .device, version: 5, automaticUpdates: .alwaysOn)
        }
    }

    @Test(
        "the schema check catches what Apple's schema forbids",
        arguments: [
            (
                "Install",
                #"{"AppStoreID":"1","InstallBehavior":{"Install":"Sometimes","License":{"Assignment":"Device"}}}"#
            ),
            ("Assignment", #"{"AppStoreID": "1", "InstallBehavior": {"License": {"Assignment": "Family"}}}"#),
            ("required", #"{"AppStoreID": "1", "InstallBehavior": {"Install": "Required"}}"#),
            (
                "integer",
                #"{"AppStoreID": "1", "InstallBehavior": {"Version": "7", "License": {"Assignment": "User"}}}"#
            ),
            (
                "one app source",
                #"{"AppStoreID":"1","BundleID":"com.example","InstallBehavior":{"License":{"Assignment":"User"}}}"#
            ),
            (
                "not a key",
                #"{"AppStoreID": "1", "VPPType": "Device", "InstallBehavior": {"License": {"Assignment": "User"}}}"#
            ),
            (
                "AutomaticAppUpdates",
                #"{"AppStoreID":"1","UpdateBehavior":{"AutomaticAppUpdates":"Sometimes"},"# + #""InstallBehavior":{}}"#
            ),
            ("not an id", #"{"AppStoreID": "12ab", "InstallBehavior": {"License": {"Assignment": "User"}}}"#),
        ]
    )
    func schemaCheck(expected: String, payload: String) throws {
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any])
        let document: [String: Any] = [
            "Type": ManagedAppDeclaration.type, "Identifier": "x", "ServerToken": "t", "Payload": parsed,
        ]
        let found = ManagedAppDeclarationSchema.violations(document)
        #expect(found.contains { $0.contains(expected) }, "\(found)")
        let valid: [String: Any] = [
            "Type": ManagedAppDeclaration.type, "Identifier": "x", "ServerToken": "t",
            "Payload": ["AppStoreID": "1", "InstallBehavior": ["License": ["Assignment": "User"]]],
        ]
        #expect(ManagedAppDeclarationSchema.violations(valid).isEmpty)
    }

    @Test("platforms: iOS/iPadOS 17.2, visionOS 2.4, macOS 26; a pinned version needs 26; never tvOS")
    func platforms() throws {
        let plain = try ManagedAppDeclaration(asset: Self.keynote, assignment: .device)
        let pinned = try ManagedAppDeclaration(asset: Self.keynote, assignment: .device, version: 9)
        let cases: [(DeviceOSFamily, String?, Bool, Bool)] = [
            (.iPadOS, "17.1", false, false), (.iPadOS, "17.2", true, false), (.iOS, "18.4", true, false),
            (.iOS, "26.0", true, true), (.visionOS, "2.4", true, false), (.macOS, "15.5", false, false),
            (.macOS, "26.1", true, true), (.tvOS, "26.0", false, false), (.iOS, nil, true, true),
        ]
        for (family, version, plainOK, pinnedOK) in cases {
            let os = version.flatMap(OSVersion.init)
            #expect(plain.isSupported(on: family, version: os) == plainOK, "\(family) \(version ?? "?")")
            #expect(pinned.isSupported(on: family, version: os) == pinnedOK, "\(family) \(version ?? "?") pinned")
        }
    }
}
