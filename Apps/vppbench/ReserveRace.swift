import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import VPPDomain
import VPPPostgres
import VPPUseCases

/// `vppbench reserve-race`: one process of the cross-process overselling test. Tries `attempts`
/// reservations of one licence each (reserve + assignment row in one unit of work), concurrently,
/// and prints how many it was granted.
struct ReserveRace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reserve-race",
        abstract: "Race licence reservations (used by the storage tests)."
    )

    @Option var databaseURL: String
    @Option var tenant: String
    @Option var token: String
    @Option var adamId: String
    @Option var attempts = 50
    @Option var serialOffset = 0

    func run() async throws {
        guard let tenantID = TenantID(uuidString: tenant), let tokenID = TokenID(uuidString: token) else {
            throw ValidationError("tenant and token must be UUIDs")
        }
        var logger = Logger(label: "reserve-race")
        logger.logLevel = .error
        let client = PostgresClient(
            configuration: try PostgresURL.configuration(from: databaseURL),
            backgroundLogger: logger
        )
        let store = PostgresStore.make(client: client, logger: logger)
        let asset = AssetKey(adamID: adamId)
        let granted = try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask {
                await client.run()
                return -1
            }
            let count = try await withThrowingTaskGroup(of: Bool.self) { attemptsGroup in
                for i in 0..<attempts {
                    attemptsGroup.addTask {
                        try await store.inTenant(tenantID) { tx in
                            guard try await tx.reserve(asset, from: tokenID, count: 1) else { return false }
                            let serial = try SerialNumber(String(format: "RACE%08d", serialOffset + i))
                            try await tx.insertAssignments([
                                Assignment(
                                    tenantID: tenantID,
                                    asset: asset,
                                    assignee: .device(serial),
                                    grantingToken: tokenID
                                )
                            ])
                            return true
                        }
                    }
                }
                return try await attemptsGroup.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            group.cancelAll()
            return count
        }
        print(granted)
    }
}
