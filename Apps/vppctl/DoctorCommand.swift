import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import VPPComposition

/// `vppctl doctor`: is the database reachable and migrated, and can this machine reach Apple?
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the database and the connection to Apple's services."
    )
    @OptionGroup var global: GlobalOptions

    /// Hosts an MDM's content-token service must reach (Apps and Books API, metadata, Apple Business/School Manager).
    static let appleHosts = [
        "vpp.itunes.apple.com", "uclient-api.itunes.apple.com", "api.ent.apple.com", "api.edu.apple.com",
        "buy.itunes.apple.com", "business.apple.com",
    ]

    func run() async throws {
        var problems: [String] = []
        var logger = Logger(label: "doctor")
        logger.logLevel = .critical
        do {
            let ready = try await VPPRuntime.withRunning(global.configuration, migrate: false, logger: logger) {
                await $0.databaseReady()
            }
            switch ready {
            case .success(let version): print("ok    database reachable and migrated (schema version \(version))")
            case .failure(let error):
                problems.append("database: \(error)")
                print("FAIL  database: \(error)")
            }
        } catch {
            problems.append("database: \(error)")
            print("FAIL  database: \(error)")
        }
        var unreachable: [String] = []
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(timeout: .init(connect: .seconds(5), read: .seconds(5)))
        )
        for host in Self.appleHosts {
            guard Self.resolves(host) else {
                print("FAIL  \(host): does not resolve (DNS)")
                unreachable.append(host)
                continue
            }
            do {
                var request = HTTPClientRequest(url: "https://\(host)/")
                request.method = .HEAD
                _ = try await client.execute(request, timeout: .seconds(8))
                print("ok    \(host): answers over TLS")
            } catch {
                print("FAIL  \(host): no TLS answer (\(String(describing: error).prefix(80)))")
                unreachable.append(host)
            }
        }
        try? await client.shutdown()
        if !unreachable.isEmpty {
            problems.append("Apple unreachable")
            print(
                "\nAllow outbound HTTPS (TCP 443) to: \(unreachable.joined(separator: ", ")) (or *.itunes.apple.com "
                    + "and *.apple.com)."
            )
        }
        if !problems.isEmpty { throw CommandFailure("\(problems.count) check(s) failed") }
        print("All checks passed.")
    }

    static func resolves(_ host: String) -> Bool {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, "443", &hints, &result)
        if result != nil { freeaddrinfo(result) }
        return status == 0
    }
}
