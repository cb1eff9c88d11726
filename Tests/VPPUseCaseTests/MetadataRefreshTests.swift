import Foundation
import Synchronization
import Testing
import VPPAppleSimulator
import VPPDomain
import VPPTestSupport
import VPPUseCases

/// A metadata source that knows every app but those whose Adam id ends in 7, and records what it was asked.
final class RecordingMetadataLookup: AppMetadataLookup {
    let batches = Mutex<[[String]]>([])

    func metadata(
        adamIDs: [String],
        countryCode: String,
        credentials: AppleCredentials?
    ) async throws -> [String: AppMetadata] {
        batches.withLock { $0.append(adamIDs) }
        return Dictionary(
            uniqueKeysWithValues: adamIDs.filter { !$0.hasSuffix("7") }.map {
                ($0, AppMetadata(name: "App \($0)", bundleID: "com.example.app\($0)"))
            }
        )
    }
}

@Suite("App metadata is filled in batches, never by reading the whole catalogue")
struct MetadataRefreshTests {
    @Test("2,500 new apps: every app Apple knows gets its metadata, asked in batches of at most 1,000, each once")
    func batches() async throws {
        try await withWorld(.sqlite) { (world) async throws in
            let assets = (0..<2_500).map { SimAsset(adamId: "\(100_000 + $0)", totalCount: 1) }
            let (file, _) = try await world.location("A", assets: assets)
            let token = try #require(
                try await world.useCases.uploadToken(world.admin, file: file, syncNow: false).token
            )
            let lookup = RecordingMetadataLookup()
            let sync = SyncToken(
                store: world.store,
                clock: world.clock,
                apple: world.ports.apple,
                metadata: lookup,
                logger: world.ports.logger,
                tokenCredentials: world.useCases.tokenCredentials,
                auditTrail: world.useCases.auditTrail,
                health: world.useCases.tokenHealth
            )
            _ = try await sync(world.admin, tokenID: token.id)

            let asked = lookup.batches.withLock { $0 }
            #expect(asked.allSatisfy { $0.count <= 1_000 }, "\(asked.map(\.count))")
            let all = asked.flatMap { $0 }
            #expect(all.count == 2_500 && Set(all).count == 2_500, "every app asked for exactly once")
            let apps = try await world.store.inTenant(world.tenant.id) { tx in try await tx.apps() }
            let missing = apps.filter { $0.metadata == nil }.map(\.asset.key.adamID)
            #expect(missing.count == 250 && missing.allSatisfy { $0.hasSuffix("7") })

            // The next sync asks only about apps still missing, and gives up on them again without looping.
            _ = try await sync(world.admin, tokenID: token.id)
            let again = lookup.batches.withLock { Array($0.dropFirst(asked.count)) }.flatMap { $0 }
            #expect(Set(again) == Set(missing) && again.count == missing.count)
        }
    }
}
