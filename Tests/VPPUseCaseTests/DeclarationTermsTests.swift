import Foundation
import Logging
import Synchronization
import Testing
import VPPAppleSimulator
import VPPDomain
import VPPTestSupport

@testable import VPPUseCases

/// A DDM server that keeps every declaration document it was given, in order.
final class DocumentRecordingPublisher: DeclarationPublisher {
    let sent = Mutex<[Data]>([])
    let joins = Mutex<[String]>([])

    func publish(_ document: Data, identifier: String, set: String) async -> DeliveryOutcome {
        sent.withLock { $0.append(document) }
        return .delivered
    }

    var documents: [[String: Any]] {
        sent.withLock { $0 }.map { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] ?? [:] }
    }

    func setMembership(enrollmentID: String, set: String, member: Bool) async -> DeliveryOutcome {
        joins.withLock { $0.append("\(member ? "+" : "-")\(enrollmentID) \(set)") }
        return .delivered
    }

    var payloads: [[String: Any]] { documents.map { $0["Payload"] as? [String: Any] ?? [:] } }
    var tokens: [String] { documents.map { $0["ServerToken"] as? String ?? "" } }
}

@Suite("The scope decides its app's declaration: Install, Version, UpdateBehavior (vppsim, both databases)")
struct DeclarationTermsTests {
    static let key = AssetKey(adamID: "408709785")

    func behaviour(_ payload: [String: Any]) -> [String: Any] { payload["InstallBehavior"] as? [String: Any] ?? [:] }

    @Test("the strongest scope that delivers decides; licence-only never does; none: Required")
    func strongestScopeDecides() throws {
        let serial = try SerialNumber("C02XK1JHJG5J")
        func scope(
            _ name: String,
            _ priority: Int,
            _ mode: ScopeDeliveryMode,
            _ terms: DeclarationTerms
        ) throws
            -> AppScope
        {
            try AppScope(
                name: ScopeName(name),
                asset: Self.key,
                serialNumbers: [serial],
                priority: priority,
                mode: mode,
                declaration: terms
            )
        }
        let optional = try DeclarationTerms(install: .optional)
        let pinned = try DeclarationTerms(version: 77)
        let other = AssetKey(adamID: "361285480")
        #expect(DeclarationTerms.forApp(Self.key, scopes: []) == .standard)
        #expect(DeclarationTerms.forApp(Self.key, scopes: [try scope("a", 0, .declaration, optional)]) == optional)
        #expect(
            DeclarationTerms.forApp(
                Self.key,
                scopes: [try scope("a", 0, .declaration, optional), try scope("b", 5, .install, pinned)]
            ) == pinned,
            "higher priority"
        )
        #expect(
            DeclarationTerms.forApp(
                Self.key,
                scopes: [try scope("b", 0, .declaration, pinned), try scope("a", 0, .declaration, optional)]
            ) == optional,
            "same priority: the first name"
        )
        #expect(
            DeclarationTerms.forApp(
                Self.key,
                scopes: [try scope("a", 0, .declaration, optional), try scope("b", 9, .licenceOnly, pinned)]
            ) == optional,
            "a licence-only scope delivers nothing, so it never decides"
        )
        #expect(DeclarationTerms.forApp(other, scopes: [try scope("a", 0, .declaration, optional)]) == .standard)
        #expect(throws: DeclarationError.updateBehaviorWithVersion) {
            try DeclarationTerms(version: 3, automaticUpdates: .alwaysOn)
        }
        #expect(throws: DeclarationError.invalidVersion(0)) { try DeclarationTerms(version: 0) }
    }

    @Test(
        "the scope's terms reach the declaration; changed terms re-publish (new ServerToken), unchanged ones do not",
        arguments: StoreKind.allCases
    )
    func termsReachTheDeclaration(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let serials = try await world.enrolledFleet(2, keynoteLicences: 4).serials
            let manage = world.reconcilingInline
            func put(_ terms: DeclarationTerms, priority: Int = 0) async throws {
                _ = try await manage.putScope(
                    world.admin,
                    try AppScope(
                        name: ScopeName("k"),
                        asset: Self.key,
                        serialNumbers: serials,
                        priority: priority,
                        mode: .declaration,
                        declaration: terms
                    ),
                    dryRun: false
                )
            }
            try await put(try DeclarationTerms(install: .optional, version: 8_675_309))
            let stored = try await manage.scope(world.admin, ScopeName("k")).scope.declaration
            #expect(stored == (try DeclarationTerms(install: .optional, version: 8_675_309)), "read back alike")
            try await world.settleEvents()
            let publisher = DocumentRecordingPublisher()
            let deliver = DeliverDeclarationSetChanges(
                store: world.store,
                clock: world.clock,
                logger: Logger(label: "test"),
                publisher: publisher
            )
            var outcome = try await deliver(world.tenant.id, owner: "a")
            #expect(outcome.joined == 2)
            var payloads = publisher.payloads
            #expect(payloads.count == 1)
            #expect(behaviour(payloads[0])["Install"] as? String == "Optional")
            #expect(behaviour(payloads[0])["Version"] as? Int == 8_675_309)
            #expect(payloads[0]["UpdateBehavior"] == nil)

            // Terms changed: the declaration the devices hold goes out again, with the new content and token.
            try await put(try DeclarationTerms(automaticUpdates: .alwaysOff))
            outcome = try await deliver(world.tenant.id, owner: "a")
            #expect(outcome.republished == 1 && outcome.joined == 0)
            payloads = publisher.payloads
            #expect(payloads.count == 2)
            #expect(behaviour(payloads[1])["Install"] as? String == "Required")
            #expect(behaviour(payloads[1])["Version"] == nil)
            #expect((payloads[1]["UpdateBehavior"] as? [String: Any])?["AutomaticAppUpdates"] as? String == "AlwaysOff")
            let tokens = publisher.tokens
            #expect(tokens.count == 2 && tokens[0] != tokens[1])

            // A change that leaves the terms as they are (the priority) publishes nothing again.
            try await put(try DeclarationTerms(automaticUpdates: .alwaysOff), priority: 3)
            outcome = try await deliver(world.tenant.id, owner: "a")
            #expect(outcome.republished == 0)
            #expect(publisher.payloads.count == 2)

            // Deleting the scope that decided: the app falls back to Required, and goes out again.
            _ = try await manage.deleteScope(world.admin, ScopeName("k"), dryRun: false)
            outcome = try await deliver(world.tenant.id, owner: "a")
            #expect(outcome.republished == 1)
            let last = try #require(publisher.payloads.last)
            #expect(behaviour(last)["Install"] as? String == "Required" && last["UpdateBehavior"] == nil)
        }
    }
}
