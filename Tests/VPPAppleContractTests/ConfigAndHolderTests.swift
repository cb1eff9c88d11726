import Foundation
import Testing
import VPPAppleClient
import VPPAppleSimulator
import VPPDomain
import VPPUseCases

@Suite("Apple client ↔ simulator: service and client configuration, holder checks")
struct ConfigAndHolderTests {
    @Test("service/config gives the limits and is cached")
    func serviceConfig() async throws {
        try await withBench { bench in
            let limits = try await bench.client.serviceLimits()
            #expect(limits.maxAssets == 25 && limits.maxSerialNumbers == 1000 && limits.maxRevokeSerialNumbers == 100)
            #expect(limits.maxRequestPerSecond == 15 && limits.maxUsers == 100)
            #expect(limits.contentMetadataLookupURL?.hasSuffix("/WebObjects/MZStorePlatform.woa/wa/lookup") == true)
            _ = try await bench.client.serviceLimits()
            #expect(await bench.simulator.requestCount("service/config") == 1)
        }
    }

    @Test("client/config reads the location; POST claims it and the claim comes back on every answer")
    func clientConfig() async throws {
        try await withBench { bench in
            let config = try await bench.client.clientConfig(bench.anonymousHolderCredentials)
            #expect(config.location.name == "Main Campus" && config.location.appleID == bench.locationUID)
            #expect(config.location.countryCode == "US" && config.context.holder == nil)
            #expect(config.context.tokenExpiresAt != nil)
            let claimed = try await bench.client.updateClientConfig(
                bench.anonymousHolderCredentials,
                holder: ourHolder,
                notifications: nil
            )
            #expect(claimed.context.holder == ourHolder)
            let walk = try await bench.client.assets(bench.credentials, filter: AppleAssetFilter())
            #expect(walk.context.holder == ourHolder && walk.context.locationUID == bench.locationUID)
        }
    }

    @Test("a foreign mdmInfo on any answer is a typed 'claimed by another holder' signal naming the holder")
    func foreignHolder() async throws {
        try await withBench { bench in
            _ = try await bench.client.updateClientConfig(
                bench.anonymousHolderCredentials,
                holder: ourHolder,
                notifications: nil
            )
            try await bench.simulator.setMDMInfo(.appleConfigurator, at: bench.locationUID)
            do {
                _ = try await bench.client.assets(bench.credentials, filter: AppleAssetFilter())
                Issue.record("expected claimedByAnotherHolder")
            } catch AppleAPIError.claimedByAnotherHolder(let holder) {
                #expect(
                    holder.isAppleConfigurator && holder.name == "Apple Configurator 2" && holder.metadata == "2.13.3"
                )
            }
            // A write Apple carried out is not reported as failed (the next read raises the conflict).
            let tickets = try await bench.client.associate(
                bench.credentials,
                assets: [AssetKey(adamID: "408709785")],
                serialNumbers: ["C02XK1JHJG5J"],
                clientUserIDs: []
            )
            #expect(tickets.count == 1)
            // Reading who holds it (no expectation) still works, for the take-over preview.
            let config = try await bench.client.clientConfig(bench.anonymousHolderCredentials)
            #expect(config.context.holder?.isAppleConfigurator == true)
        }
    }

    @Test("mdmInfo limits are enforced by the simulator as Apple's 97xx errors")
    func mdmInfoValidation() async throws {
        try await withBench { bench in
            let tooLong = HolderIdentity(id: String(repeating: "x", count: 101), name: "vpp", metadata: "m")
            await #expect(throws: AppleAPIError.apple(errorNumber: 9724, message: "mdmInfo id too long")) {
                _ = try await bench.client.updateClientConfig(
                    bench.anonymousHolderCredentials,
                    holder: tooLong,
                    notifications: nil
                )
            }
        }
    }
}
