import ArgumentParser
import Foundation
import Logging
import Synchronization
import VPPAppleSimulator
import VPPComposition
import VPPDomain
import VPPUseCases

/// `vppbench sync`: full sync of many assets and assignments from a running vppsim, an incremental sync of
/// 100 changes, and a bulk assignment of 10,000 devices (Apple calls made vs. the minimum).
struct SyncBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Time a full and an incremental sync and a bulk assignment."
    )

    @Option var simulator = "http://127.0.0.1:9090"
    @Option(help: "postgres://… or sqlite://path") var databaseURL: String
    @Option var assets = 5_000
    @Option var assignments = 200_000
    @Option var bulkDevices = 10_000

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let admin = SimAdmin(root: simulator)
        let uid = try await admin.seed(assets: assets, assignments: assignments, bulkDevices: bulkDevices)
        let tokenText = String(
            decoding: try await admin.call("POST", "/sim/locations/\(uid)/tokens", ["validDays": 365]),
            as: UTF8.self
        )

        var configuration = VPPConfiguration(environment: [:])
        configuration.databaseURL = databaseURL
        configuration.appleBaseURL = simulator + "/mdm/v2"
        configuration.encryptionKey = Data(repeating: 7, count: 32).base64EncodedString()
        let runtime = try await VPPRuntime.start(configuration, migrate: true, logger: logger)
        let ports = VPPPorts(
            store: runtime.ports.store,
            apple: runtime.ports.apple,
            metadata: nil,
            secrets: runtime.ports.secrets,
            clock: SystemClock(),
            mailer: nil,
            logger: logger
        )
        let useCases = UseCases(ports: ports)
        let tenant = try await useCases.tenantAdministration.createTenant(
            name: "bench-\(UUID().uuidString.prefix(6))",
            hostname: "bench"
        )
        let caller = Caller(tenantID: tenant.id, admin: Admin(tenantID: tenant.id, name: "bench", role: .mdmAdmin))

        let clock = ContinuousClock()
        var started = clock.now
        let upload = try await useCases.uploadToken(caller, file: Data(tokenText.utf8), syncNow: false)
        let tokenID = try upload.token.orThrow("upload stored no token").id
        started = clock.now
        let full = try await useCases.syncToken(caller, tokenID: tokenID)
        let fullTime = clock.now - started
        print(
            String(
                format: "sync: full sync of %d assets and %d assignments (%d pages) in %.2f s (target < 30 s)",
                full.assets,
                full.assignmentsFromApple,
                full.pages,
                Self.seconds(fullTime)
            )
        )
        if let peak = peakResidentMiB() {
            print(String(format: "sync: peak RSS after the full sync %.1f MiB (target < 200 MB)", peak))
        }

        // 100 new assignments at Apple, then a sync timed: queued (the delta's apps) or asked for by a person.
        func syncAfterAdding(
            _ range: Range<Int>,
            to adamID: String,
            catalogue: CatalogueRead
        ) async throws
            -> (report: SyncReport, seconds: Double)
        {
            let serials = range.map { String(format: "INCR%07d", $0) }
            _ = try await admin.call(
                "POST",
                "/sim/locations/\(uid)/assignments",
                ["adamId": adamID, "serialNumbers": serials]
            )
            let started = clock.now
            let report = try await useCases.syncToken(caller, tokenID: tokenID, catalogue: catalogue)
            return (report, Self.seconds(clock.now - started))
        }
        let incremental = try await syncAfterAdding(0..<100, to: "7000000", catalogue: .whenDue)
        print(
            String(
                format: "sync: incremental sync of %d changes in %.3f s (target < 0.5 s, flat in apps; %d Apple pages)",
                incremental.report.inserted,
                incremental.seconds,
                incremental.report.pages
            ) + "; whole asset list read: \(incremental.report.catalogue ? "yes" : "no")"
        )
        // The same delta size through a sync a person asks for, which still reads the whole asset list.
        let asked = try await syncAfterAdding(100..<200, to: "7000001", catalogue: .always)
        print(
            String(
                format: "sync: the same, asked for by a person (whole asset list, %d pages): %d changes in %.3f s",
                asked.report.pages,
                asked.report.inserted,
                asked.seconds
            )
        )

        // What a queued incremental sync no longer does (a sync a person asks for, and the first of each catalogue
        // period, still do): read Apple's whole asset list (Apple has no "changed since" for assets).
        let credentials = try await useCases.tokenCredentials.open(tenant.id, tokenID)
        started = clock.now
        let assetWalk = try await ports.apple.assets(credentials, filter: AppleAssetFilter())
        print(
            String(
                format: "sync: Apple's whole asset list alone (%d assets, %d pages): %.3f s",
                assetWalk.items.count,
                assetWalk.pagesFetched,
                Self.seconds(clock.now - started)
            )
        )

        let devices = (0..<bulkDevices).map { try! SerialNumber(String(format: "BULK%07d", $0)) }
        try await useCases.manageInventory.addDevices(
            caller,
            devices.map { Device(tenantID: tenant.id, serialNumber: $0) }
        )
        _ = try await admin.call("DELETE", "/sim/stats", nil)
        started = clock.now
        let outcome = try await useCases.assignLicences(
            caller,
            asset: AssetKey(adamID: "7999999"),
            to: devices.map { .device($0) }
        )
        let bulkTime = clock.now - started
        let stats =
            try JSONSerialization.jsonObject(with: try await admin.call("GET", "/sim/stats", nil)) as? [String: Any]
        let calls = (stats?["requests"] as? [String: Int])?["assets/associate"] ?? -1
        let minimum = (bulkDevices + 999) / 1000
        print(
            String(
                format: "sync: bulk assignment of %d devices in %.2f s: %d associate calls, minimum %d",
                bulkDevices,
                Self.seconds(bulkTime),
                calls,
                minimum
            )
        )
        _ = outcome
        if let peak = peakResidentMiB() { print(String(format: "sync: peak RSS overall %.1f MiB", peak)) }
        await runtime.shutdown()
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

extension Optional {
    func orThrow(_ message: String) throws -> Wrapped {
        guard let value = self else { throw ValidationError(message) }
        return value
    }
}

/// The simulator's admin API.
struct SimAdmin {
    let root: String

    func call(_ method: String, _ path: String, _ json: [String: Any]?) async throws -> Data {
        try await SimulatorAdminClient(rootURL: root).call(method, path, json: json)
    }

    /// A location with `assets` apps (assignments spread over them) plus one app with licences for the bulk assignment.
    func seed(assets: Int, assignments: Int, bulkDevices: Int) async throws -> String {
        let created =
            try JSONSerialization.jsonObject(
                with: try await call("POST", "/sim/locations", ["name": "Bench \(UUID().uuidString.prefix(6))"])
            )
            as! [String: Any]
        let uid = created["uId"] as! String
        let perAsset = max(1, assignments / max(1, assets))
        for start in stride(from: 0, to: assets, by: 2000) {
            let batch = (start..<min(start + 2000, assets)).map {
                ["adamId": "\(7_000_000 + $0)", "totalCount": perAsset + 200] as [String: Any]
            }
            _ = try await call("POST", "/sim/locations/\(uid)/assets", ["assets": batch])
        }
        _ = try await call("POST", "/sim/locations/\(uid)/assets", ["adamId": "7999999", "totalCount": bulkDevices])
        var placed = 0
        var assetIndex = 0
        while placed < assignments {
            let count = min(perAsset, assignments - placed)
            let serials = (placed..<placed + count).map { String(format: "SYNC%08d", $0) }
            _ = try await call(
                "POST",
                "/sim/locations/\(uid)/assignments",
                ["adamId": "\(7_000_000 + assetIndex % assets)", "serialNumbers": serials]
            )
            placed += count
            assetIndex += 1
        }
        return uid
    }
}
