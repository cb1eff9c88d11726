import ArgumentParser
import Foundation
import Logging
import VPPAppleClient
import VPPDomain
import VPPUseCases

/// A full asset + assignment walk against a running `vppsim` with its rate limit on.
struct AppleWalkBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apple-walk",
        abstract:
            "Seed a running vppsim, then time a full asset and assignment walk and report the ratio to the "
            + "rate-limit minimum."
    )

    @Option(help: "Root URL of a running vppsim.") var simulator = "http://127.0.0.1:9090"
    @Option var pageSize = 100
    @Option(help: "Asset pages to walk.") var assetPages = 100
    @Option(help: "Assignment pages to walk.") var assignmentPages = 100
    @Option(help: "The simulator's requests per second (must match its --rate-limit).") var rate: Double = 15

    func run() async throws {
        let assets = assetPages * pageSize
        let assignmentCount = assignmentPages * pageSize
        let uid = try await seed(assets: assets, assignments: assignmentCount)
        let token = String(
            decoding: try await admin("POST", "/sim/locations/\(uid)/tokens", ["validDays": 365]),
            as: UTF8.self
        )
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let client = HTTPAppleAppsAndBooksClient(
            configuration: AppleClientConfiguration(baseURL: simulator + "/mdm/v2"),
            logger: logger
        )
        let credentials = AppleCredentials(token: ContentTokenSecret(unchecked: token), expectedHolder: nil)
        _ = try await client.serviceLimits()
        // Let the simulator's token bucket refill after seeding, so the walk starts from a steady state.
        try await Task.sleep(for: .seconds(1.5))
        let clock = ContinuousClock()
        let started = clock.now
        let assetWalk = try await client.assets(credentials, filter: AppleAssetFilter())
        let assignmentWalk = try await client.assignments(credentials, filter: AppleAssignmentFilter())
        let elapsed = clock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let pages = assetWalk.pagesFetched + assignmentWalk.pagesFetched
        let minimum = Double(pages) / rate
        let limited =
            try JSONSerialization.jsonObject(with: try await admin("GET", "/sim/settings", nil)) as? [String: Any]
        print(
            "apple-walk: \(assetWalk.items.count) assets + \(assignmentWalk.items.count) assignments in \(pages) "
                + "pages (page size \(pageSize))"
        )
        print(
            String(
                format: "apple-walk: wall time %.2f s; minimum at %.0f rps %.2f s; ratio %.3f (target <= 1.1)",
                seconds,
                rate,
                minimum,
                seconds / minimum
            )
        )
        print(
            "apple-walk: restarts \(assetWalk.restarts + assignmentWalk.restarts); simulator rate limit "
                + "\(limited?["requestsPerSecond"] ?? "?") rps"
        )
        if let peak = peakResidentMiB() {
            print(String(format: "apple-walk: peak RSS of the client process %.1f MiB", peak))
        }
        guard assetWalk.items.count == assets, assignmentWalk.items.count == assignmentCount else {
            throw ValidationError(
                "walk incomplete: \(assetWalk.items.count)/\(assets) assets, "
                    + "\(assignmentWalk.items.count)/\(assignmentCount) assignments"
            )
        }
    }

    private func seed(assets: Int, assignments: Int) async throws -> String {
        var settings =
            try JSONSerialization.jsonObject(with: try await admin("GET", "/sim/settings", nil)) as! [String: Any]
        settings["pageSize"] = pageSize
        _ = try await admin("PUT", "/sim/settings", settings)
        let created =
            try JSONSerialization.jsonObject(
                with: try await admin("POST", "/sim/locations", ["name": "Bench \(UUID().uuidString.prefix(6))"])
            )
            as! [String: Any]
        let uid = created["uId"] as! String
        for start in stride(from: 0, to: assets, by: 2000) {
            let batch = (start..<min(start + 2000, assets)).map {
                ["adamId": "\(1_000_000 + $0)", "totalCount": 1_000_000] as [String: Any]
            }
            _ = try await admin("POST", "/sim/locations/\(uid)/assets", ["assets": batch])
        }
        for start in stride(from: 0, to: assignments, by: 5000) {
            let serials = (start..<min(start + 5000, assignments)).map { String(format: "BENCH%07d", $0) }
            _ = try await admin(
                "POST",
                "/sim/locations/\(uid)/assignments",
                ["adamId": "1000000", "serialNumbers": serials]
            )
        }
        return uid
    }

    private func admin(_ method: String, _ path: String, _ json: [String: Any]?) async throws -> Data {
        try await SimAdmin(root: simulator).call(method, path, json)
    }
}
