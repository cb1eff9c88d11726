import Foundation
import Synchronization
import Testing
import VPPConsole
import VPPDomain
import VPPTestSupport
import VPPUseCases

/// A password hash that counts the checks it makes and takes a while, so concurrent sign-ins overlap.
final class CountingHasher: PasswordHasher, Sendable {
    let checks = Mutex(0)
    func hash(_ password: String) async throws -> String { "plain:" + password }
    func verify(_ password: String, hash: String) async -> Bool {
        checks.withLock { $0 += 1 }
        try? await Task.sleep(for: .milliseconds(100))
        return hash == "plain:" + password
    }
    var count: Int { checks.withLock { $0 } }
}

/// Issue 24, item 5: attempts are counted per account (whatever the login's spelling) and per address before the
/// hash, in one conditional statement, so concurrent guesses on two replicas never get more checks than the limits.
@Suite("Console sign-in: throttling under concurrent guesses")
struct SignInThrottleTests {
    static let password = "the right long password"

    @Test(
        """
        10 concurrent guesses at one account under five spellings, on two replicas: 5 passwords checked; 25 \
        concurrent guesses from one address: 20 checked
        """,
        arguments: StoreKind.allCases
    )
    func concurrentGuesses(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let hasher = CountingHasher()
            _ = try await AdminAccounts(
                store: world.store,
                clock: world.clock,
                auditTrail: world.useCases.auditTrail,
                hasher: hasher
            )
            .create(.system(world.tenant.id), username: "victim", role: .mdmAdmin, password: Self.password)
            var policy = SignInPolicy()
            policy.failureDelay = .zero
            let replicaStore = try await world.sut.makeSecondStore()
            let replicas = [
                ConsoleSignIn(
                    store: world.store,
                    clock: world.clock,
                    auditTrail: world.useCases.auditTrail,
                    hasher: hasher,
                    policy: policy
                ),
                ConsoleSignIn(
                    store: replicaStore,
                    clock: world.clock,
                    auditTrail: world.useCases.auditTrail,
                    hasher: hasher,
                    policy: policy
                ),
            ]
            let spellings = ["victim", "/victim", "victim/", " Victim ", "\(world.tenant.name)/victim"]
            let outcomes = try await withThrowingTaskGroup(of: SignInOutcome.self) { group in
                for attempt in 0..<10 {
                    group.addTask {
                        try await replicas[attempt % 2].signIn(
                            login: spellings[attempt % spellings.count],
                            password: "guess number \(attempt)",
                            address: "198.51.100.\(attempt)"
                        )
                    }
                }
                return try await group.reduce(into: [SignInOutcome]()) { $0.append($1) }
            }
            #expect(hasher.count == 5, "passwords checked for one account: \(hasher.count)")
            #expect(outcomes.filter { $0 == .refused }.count == 5)
            #expect(
                outcomes.filter {
                    if case .throttled = $0 { return true } else { return false }
                }.count == 5
            )
            // The right password is refused too now, under any spelling: the account is locked for the window.
            guard
                case .throttled = try await replicas[1].signIn(
                    login: "VICTIM/",
                    password: Self.password,
                    address: "203.0.113.1"
                )
            else {
                Issue.record("the account is not locked")
                return
            }

            let before = hasher.count
            try await withThrowingTaskGroup(of: Void.self) { group in
                for attempt in 0..<25 {
                    group.addTask {
                        _ = try await replicas[attempt % 2].signIn(
                            login: "nobody\(attempt)",
                            password: "guess",
                            address: "192.0.2.66"
                        )
                    }
                }
                try await group.waitForAll()
            }
            #expect(hasher.count - before == 20, "passwords checked from one address: \(hasher.count - before)")
        }
    }

    @Test("at most the slots' limit of password hashes run at once")
    func boundedHashes() async throws {
        let slots = HashSlots(limit: 2)
        let hasher = BcryptPasswordHasher(cost: 4, slots: slots)
        let hash = try await hasher.hash(Self.password)
        await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 { group.addTask { await hasher.verify(Self.password, hash: hash) } }
            for await matches in group { #expect(matches) }
        }
        #expect(await slots.peak == 2)
    }
}
