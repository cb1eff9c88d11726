import Foundation
import Testing
import VPPAppleClient
import VPPAppleSimulator
import VPPDomain
import VPPUseCases

@Suite("Apple client ↔ simulator: token errors, faults, retries and secrecy")
struct ErrorAndFaultTests {
    func credentials(_ text: String) -> AppleCredentials {
        AppleCredentials(token: ContentTokenSecret(unchecked: text), expectedHolder: nil)
    }

    @Test(
        "expired 9621, revoked 9625, unknown 9622 (on HTTP 200) and a malformed bearer 9722 are typed and not retried"
    )
    func tokenErrors() async throws {
        try await withBench { bench in
            let unknown = Data(#"{"token":"x","expDate":"2030-01-01T00:00:00+0000","orgName":"o"}"#.utf8)
                .base64EncodedString()
            await #expect(throws: AppleAPIError.tokenInvalid(errorNumber: 9622)) {
                _ = try await bench.client.clientConfig(credentials(unknown))
            }
            await #expect(throws: AppleAPIError.tokenInvalid(errorNumber: 9722)) {
                _ = try await bench.client.clientConfig(credentials("not-a-token"))
            }
            await bench.simulator.revokeTokens(of: bench.locationUID)
            await #expect(throws: AppleAPIError.tokenRevoked) {
                _ = try await bench.client.clientConfig(bench.credentials)
            }
            let other = await bench.simulator.createLocation(name: "Annex")
            let expiring = try await bench.simulator.mintToken(for: other, expiresAt: Date().addingTimeInterval(3600))
            await bench.simulator.expireTokens(of: other)
            await #expect(throws: AppleAPIError.tokenExpired) {
                _ = try await bench.client.clientConfig(credentials(expiring))
            }
            #expect(await bench.simulator.requestCount("client/config") == 4, "token errors are final: no retries")
            #expect(AppleAPIError.tokenRevoked.disablesToken && !AppleAPIError.notEnoughLicences.disablesToken)
        }
    }

    @Test("500 with Retry-After, 503/9729 and 429/9646 are retried until the answer comes")
    func transientFaultsAreRetried() async throws {
        try await withBench { bench in
            _ = try await bench.client.serviceLimits()
            await bench.simulator.injectFault(
                SimulatorFault(kind: .serverError, count: 2, pathContains: "assets?", retryAfterSeconds: 0)
            )
            await bench.simulator.injectFault(
                SimulatorFault(kind: .serviceUnavailable, count: 1, pathContains: "assets?")
            )
            await bench.simulator.injectFault(SimulatorFault(kind: .rateLimited, count: 1, pathContains: "assets?"))
            let walk = try await bench.client.assets(bench.credentials, filter: AppleAssetFilter())
            #expect(walk.items.count == 2)
            #expect(await bench.simulator.requestCount("assets") == 5)
        }
    }

    @Test("Retry-After is honoured")
    func retryAfterHonoured() async throws {
        try await withBench { bench in
            _ = try await bench.client.serviceLimits()
            await bench.simulator.injectFault(
                SimulatorFault(kind: .serverError, count: 1, pathContains: "client/config", retryAfterSeconds: 1)
            )
            let started = ContinuousClock.now
            _ = try await bench.client.clientConfig(bench.credentials)
            #expect(ContinuousClock.now - started >= .seconds(1))
        }
    }

    @Test("retries stop at the attempt cap and when Retry-After exceeds the time budget: no retry storms")
    func retryCaps() async throws {
        try await withBench(client: {
            $0.maxAttempts = 3
            $0.maxRetryDuration = .seconds(5)
        }) { bench in
            _ = try await bench.client.serviceLimits()
            await bench.simulator.injectFault(
                SimulatorFault(kind: .serviceUnavailable, count: 10, pathContains: "client/config")
            )
            await #expect(throws: AppleAPIError.serviceUnavailable(retryAfterSeconds: nil)) {
                _ = try await bench.client.clientConfig(bench.credentials)
            }
            #expect(await bench.simulator.requestCount("client/config") == 3)
            await bench.simulator.clearFaults()
            await bench.simulator.injectFault(
                SimulatorFault(kind: .serverError, count: 1, pathContains: "client/config", retryAfterSeconds: 120)
            )
            let started = ContinuousClock.now
            await #expect(throws: AppleAPIError.apple(errorNumber: 9603, message: "Internal error")) {
                _ = try await bench.client.clientConfig(bench.credentials)
            }
            #expect(
                ContinuousClock.now - started < .seconds(2),
                "a Retry-After beyond the budget ends the call at once"
            )
        }
    }

    @Test("HTTP 200 carrying 9622 is an error, not data")
    func errorOn200() async throws {
        try await withBench { bench in
            await bench.simulator.injectFault(
                SimulatorFault(kind: .invalidTokenOn200, count: 1, pathContains: "client/config")
            )
            await #expect(throws: AppleAPIError.tokenInvalid(errorNumber: 9622)) {
                _ = try await bench.client.clientConfig(bench.credentials)
            }
        }
    }

    @Test("slow replies hit the deadline")
    func slowReply() async throws {
        try await withBench(client: {
            $0.requestTimeout = .milliseconds(300)
            $0.maxAttempts = 1
        }) { bench in
            _ = try await bench.client.serviceLimits()
            await bench.simulator.injectFault(
                SimulatorFault(kind: .slow, count: 1, pathContains: "client/config", delayMilliseconds: 1500)
            )
            await #expect(throws: AppleAPIError.timeout) { _ = try await bench.client.clientConfig(bench.credentials) }
        }
    }

    @Test("truncated JSON is a typed error with a short excerpt; a GET retries past it")
    func truncatedJSON() async throws {
        try await withBench(client: { $0.maxAttempts = 1 }) { bench in
            _ = try await bench.client.serviceLimits()
            await bench.simulator.injectFault(
                SimulatorFault(kind: .truncatedJSON, count: 1, pathContains: "client/config")
            )
            do {
                _ = try await bench.client.clientConfig(bench.credentials)
                Issue.record("truncated JSON must fail")
            } catch AppleAPIError.malformedResponse(let status, let excerpt) {
                #expect(status == 200 && excerpt.count <= 200 && !excerpt.isEmpty)
            }
        }
        try await withBench { bench in
            _ = try await bench.client.serviceLimits()
            await bench.simulator.injectFault(
                SimulatorFault(kind: .truncatedJSON, count: 1, pathContains: "client/config")
            )
            #expect(try await bench.client.clientConfig(bench.credentials).location.name == "Main Campus")
        }
    }

    @Test("a connection reset is retried on reads but never on writes (Apple may have acted)")
    func connectionReset() async throws {
        try await withBench { bench in
            _ = try await bench.client.serviceLimits()
            await bench.simulator.injectFault(
                SimulatorFault(kind: .connectionReset, count: 1, pathContains: "client/config")
            )
            #expect(try await bench.client.clientConfig(bench.credentials).location.name == "Main Campus")
            await bench.simulator.injectFault(
                SimulatorFault(kind: .connectionReset, count: 1, pathContains: "associate")
            )
            do {
                _ = try await bench.client.associate(
                    bench.credentials,
                    assets: [AssetKey(adamID: "408709785")],
                    serialNumbers: ["C02XK1JHJG5J"],
                    clientUserIDs: []
                )
                Issue.record("a reset write must surface")
            } catch let error as AppleAPIError {
                guard case .transport = error else {
                    Issue.record("expected transport, got \(error)")
                    return
                }
            }
            #expect(await bench.simulator.requestCount("assets/associate") == 1)
        }
    }

    @Test("oversized bodies are refused")
    func oversized() async throws {
        try await withBench(client: { $0.maxResponseBytes = 150 }) { bench in
            await #expect(throws: AppleAPIError.responseTooLarge(limit: 150)) {
                _ = try await bench.client.serviceLimits()
            }
        }
    }

    @Test("a refused connection is a transport error, at once")
    func refused() async throws {
        var configuration = AppleClientConfiguration(baseURL: "http://127.0.0.1:1/mdm/v2")
        configuration.maxAttempts = 2
        configuration.initialBackoff = .milliseconds(1)
        let client = HTTPAppleAppsAndBooksClient(configuration: configuration)
        let started = ContinuousClock.now
        do {
            _ = try await client.serviceLimits()
            Issue.record("nothing listens on port 1")
        } catch let error as AppleAPIError {
            guard case .transport = error else {
                Issue.record("expected transport, got \(error)")
                return
            }
        }
        // Regression: with HTTPClient.shared the pool kept retrying the refused connection until the
        // 30 s deadline of every attempt (60 s here).
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    /// The shared request limiter keeps its slots in the database: when that fails, the call reports the
    /// database's failure, never "Cannot reach Apple" (Apple was never asked).
    struct FailingLimiter: AppleRequestLimiter {
        func acquire(key: String, perSecond: Int) async throws {
            throw StoreError.unavailable("connection refused")
        }
    }

    @Test("a database failure inside the shared request limiter is reported as the database's, not Apple's")
    func limiterDatabaseFailure() async throws {
        try await withBench { bench in
            let client = HTTPAppleAppsAndBooksClient(
                configuration: AppleClientConfiguration(baseURL: bench.running.appleBaseURL),
                limiter: FailingLimiter()
            )
            do {
                _ = try await client.clientConfig(bench.credentials)
                Issue.record("the limiter failed: the call cannot succeed")
            } catch let error as StoreError {
                #expect(error == .unavailable("connection refused"))
            } catch {
                Issue.record("expected the database's failure, got \(error)")
            }
        }
    }

    @Test("the content token never appears in logs, errors or descriptions")
    func secrecy() async throws {
        try await withBench(client: { $0.maxAttempts = 2 }) { bench in
            _ = try await bench.client.updateClientConfig(
                bench.anonymousHolderCredentials,
                holder: ourHolder,
                notifications: nil
            )
            await bench.simulator.injectFault(
                SimulatorFault(kind: .serverError, count: 1, pathContains: "assets?", retryAfterSeconds: 0)
            )
            _ = try await bench.client.assets(bench.credentials, filter: AppleAssetFilter())
            var errors: [String] = []
            await bench.simulator.injectFault(SimulatorFault(kind: .truncatedJSON, count: 5))
            do { _ = try await bench.client.clientConfig(bench.credentials) } catch {
                errors.append("\(error)")
                errors.append(String(reflecting: error))
            }
            await bench.simulator.clearFaults()
            await bench.simulator.revokeTokens(of: bench.locationUID)
            do { _ = try await bench.client.clientConfig(bench.credentials) } catch {
                errors.append("\(error)")
                errors.append(String(reflecting: error))
            }
            let everything = bench.logs.text + errors.joined() + "\(bench.credentials.token)"
            #expect(!bench.logs.text.isEmpty, "the test must have captured logs")
            #expect(!everything.contains(bench.tokenText))
            #expect(!everything.contains(String(bench.tokenText.prefix(16))))
        }
    }
}
