import ArgumentParser
import Foundation
import VPPAppleSimulator

/// Options shared by the commands that talk to a running simulator's admin API.
struct SimulatorAddress: ParsableArguments {
    @Option(help: "The running simulator.") var url = "http://127.0.0.1:9090"

    /// Sends one admin request and returns the body.
    func call(_ method: String, _ path: String, json: [String: Any]? = nil) async throws -> Data {
        try await SimulatorAdminClient(rootURL: url).call(method, path, json: json)
    }
}

struct LocationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "location",
        abstract: "Create or list locations.",
        subcommands: [Create.self, List.self]
    )
    struct Create: AsyncParsableCommand {
        @OptionGroup var simulator: SimulatorAddress
        @Option var name: String
        @Option var country = "US"
        @Option(help: "Apple uId (random when omitted).") var uid: String?
        func run() async throws {
            var body: [String: Any] = ["name": name, "countryCode": country]
            if let uid { body["uId"] = uid }
            print(String(decoding: try await simulator.call("POST", "/sim/locations", json: body), as: UTF8.self))
        }
    }
    struct List: AsyncParsableCommand {
        @OptionGroup var simulator: SimulatorAddress
        func run() async throws {
            print(String(decoding: try await simulator.call("GET", "/sim/locations"), as: UTF8.self))
        }
    }
}

struct AssetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "asset",
        abstract: "Add an asset (or change its count) on a location.",
        subcommands: [Add.self]
    )
    struct Add: AsyncParsableCommand {
        @OptionGroup var simulator: SimulatorAddress
        @Option var location: String
        @Option var adamId: String
        @Option var count: Int
        @Option var name: String?
        @Option var productType = "App"
        @Flag var notDeviceAssignable = false
        @Flag var notRevocable = false
        func run() async throws {
            var body: [String: Any] = [
                "adamId": adamId, "totalCount": count, "productType": productType, "pricingParam": "STDQ",
                "deviceAssignable": !notDeviceAssignable, "revocable": !notRevocable, "supportedPlatforms": ["iOS"],
                "retiredCount": 0, "name": name ?? "App \(adamId)", "bundleId": "com.example.app\(adamId)",
                "version": "1.0",
            ]
            if productType == "Book" { body["deviceAssignable"] = false }
            _ = try await simulator.call("POST", "/sim/locations/\(location)/assets", json: body)
            print("asset \(adamId) on \(location): \(count) licences")
        }
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Mint, expire or revoke content tokens.",
        subcommands: [Mint.self, Expire.self, Revoke.self]
    )
    struct Mint: AsyncParsableCommand {
        @OptionGroup var simulator: SimulatorAddress
        @Option var location: String
        @Option var validDays: Double = 365
        @Option(help: "Write the .vpptoken here.") var output: String
        func run() async throws {
            let text = try await simulator.call(
                "POST",
                "/sim/locations/\(location)/tokens",
                json: ["validDays": validDays]
            )
            try text.write(to: URL(fileURLWithPath: output), options: .atomic)
            print("wrote \(output)")
        }
    }
    struct Expire: AsyncParsableCommand {
        @OptionGroup var simulator: SimulatorAddress
        @Option var location: String
        func run() async throws {
            _ = try await simulator.call("POST", "/sim/locations/\(location)/expire")
            print("expired")
        }
    }
    struct Revoke: AsyncParsableCommand {
        @OptionGroup var simulator: SimulatorAddress
        @Option var location: String
        func run() async throws {
            _ = try await simulator.call("POST", "/sim/locations/\(location)/revoke")
            print("revoked")
        }
    }
}

struct HolderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "holder",
        abstract: "Set or clear a location's mdmInfo (who holds the token)."
    )
    @OptionGroup var simulator: SimulatorAddress
    @Option var location: String
    @Flag(help: "Make Apple Configurator 2 the holder.") var appleConfigurator = false
    @Option var id: String?
    @Option var name: String?
    @Flag(help: "Clear the holder.") var clear = false
    func run() async throws {
        if clear {
            _ = try await simulator.call("DELETE", "/sim/locations/\(location)/mdm-info")
            print("cleared")
            return
        }
        let body: [String: Any] =
            appleConfigurator
            ? ["appleConfigurator": true]
            : ["id": id ?? UUID().uuidString, "name": name ?? "Other MDM", "metadata": "vppsim"]
        _ = try await simulator.call("PUT", "/sim/locations/\(location)/mdm-info", json: body)
        print("holder set")
    }
}

struct FaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fault",
        abstract:
            "Inject faults: serverError, serviceUnavailable, invalidTokenOn200, slow, truncatedJSON, "
            + "connectionReset, rateLimited."
    )
    @OptionGroup var simulator: SimulatorAddress
    @Option var kind: String?
    @Option var count = 1
    @Option(help: "Only requests whose path/query contains this.") var path: String?
    @Option var retryAfter: Int?
    @Option var delayMs: Int?
    @Flag(help: "Remove every pending fault.") var clear = false
    func run() async throws {
        if clear {
            _ = try await simulator.call("DELETE", "/sim/faults")
            print("faults cleared")
            return
        }
        guard let kind else { throw ValidationError("give --kind or --clear") }
        var body: [String: Any] = ["kind": kind, "count": count]
        if let path { body["pathContains"] = path }
        if let retryAfter { body["retryAfterSeconds"] = retryAfter }
        if let delayMs { body["delayMilliseconds"] = delayMs }
        print(String(decoding: try await simulator.call("POST", "/sim/faults", json: body), as: UTF8.self))
    }
}
