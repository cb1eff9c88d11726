import ArgumentParser
import Foundation
import Logging
import VPPComposition
import VPPDomain
import VPPUseCases

/// `vppbench seed-fleet`: many tenants, each with its own simulated location and uploaded token (the real
/// upload path: validated and claimed at vppsim), for the scheduling benchmarks. One extra tenant may hold
/// many tokens, to show it does not starve the others.
struct TenantFleetSeeder: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-fleet",
        abstract: "Create tenants with uploaded tokens against a running vppsim."
    )

    @Option var simulator = "http://127.0.0.1:9090"
    @Option(help: "postgres://… or sqlite://path") var databaseURL: String
    @Option(help: "Tenants with one token each.") var tenants = 1_000
    @Option(help: "Tokens of one extra, busy tenant (0: none).") var busyTenantTokens = 0
    @Option(help: "Uploads in flight at once.") var concurrency = 16

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        var configuration = VPPConfiguration(environment: ProcessInfo.processInfo.environment)
        configuration.databaseURL = databaseURL
        configuration.appleBaseURL = simulator + "/mdm/v2"
        let runtime = try await VPPRuntime.start(configuration, migrate: true, logger: logger)
        let useCases = UseCases(ports: runtime.ports, settings: runtime.settings)
        let admin = SimAdmin(root: simulator)
        let clock = ContinuousClock()
        let started = clock.now

        var plan: [(tenant: String, tokens: Int)] = (0..<tenants).map { (String(format: "fleet-%06d", $0), 1) }
        if busyTenantTokens > 0 { plan.append(("fleet-busy", busyTenantTokens)) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func addNext() {
                guard next < plan.count else { return }
                let (name, tokens) = plan[next]
                next += 1
                group.addTask {
                    let tenant = try await useCases.tenantAdministration.createTenant(
                        name: name,
                        hostname: "bench"
                    )
                    let caller = Caller(
                        tenantID: tenant.id,
                        admin: Admin(tenantID: tenant.id, name: "bench", role: .mdmAdmin)
                    )
                    for index in 0..<tokens {
                        let uid = try await Self.location(admin, name: "\(name)-\(index)")
                        let tokenText = try await admin.call(
                            "POST",
                            "/sim/locations/\(uid)/tokens",
                            ["validDays": 365]
                        )
                        _ = try await useCases.uploadToken(caller, file: tokenText, syncNow: false)
                    }
                }
            }
            for _ in 0..<concurrency { addNext() }
            while try await group.next() != nil { addNext() }
        }
        let seconds = Double((clock.now - started).components.seconds)
        let busy = busyTenantTokens > 0 ? " and one with \(busyTenantTokens)" : ""
        print("seed-fleet: \(tenants) tenants with one token each\(busy) in \(Int(seconds)) s")
        await runtime.shutdown()
    }

    /// A location with one app of 10 licences (a sync has something to read).
    static func location(_ admin: SimAdmin, name: String) async throws -> String {
        let created =
            try JSONSerialization.jsonObject(
                with: try await admin.call("POST", "/sim/locations", ["name": name])
            ) as? [String: Any]
        guard let uid = created?["uId"] as? String else { throw ValidationError("vppsim created no location") }
        _ = try await admin.call("POST", "/sim/locations/\(uid)/assets", ["adamId": "408709785", "totalCount": 10])
        return uid
    }
}
