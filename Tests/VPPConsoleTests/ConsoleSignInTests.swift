import Foundation
import Testing
import VPPConsole
import VPPDomain
import VPPSQLStore
import VPPTestSupport
import VPPUseCases

/// Admin accounts, sign-in with bcrypt, database sessions and the throttling of failed sign-ins, on both stores.
@Suite("Console sign-in")
struct ConsoleSignInTests {
    static let password = "a long enough password"

    static func policy(accounts: Int = 5, addresses: Int = 20, delay: Duration = .zero) -> SignInPolicy {
        var policy = SignInPolicy()
        policy.accountLimit = accounts
        policy.addressLimit = addresses
        policy.failureDelay = delay
        return policy
    }

    static func account(_ world: World, _ name: String, _ role: Role) async throws -> AdminAccount {
        try await AdminAccounts(
            store: world.store,
            clock: world.clock,
            auditTrail: world.useCases.auditTrail,
            hasher: BcryptPasswordHasher(cost: 4)
        )
        .create(.system(world.tenant.id), username: name, role: role, password: password)
    }

    @Test(
        "a session lives in the database: another server knows it, the audit names the admin, sign-out ends it",
        arguments: StoreKind.allCases
    )
    func sessionsAreShared(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            _ = try await Self.account(world, "Alice", .applicationManagementFullControl)
            let signIn = ConsoleSignIn(
                store: world.store,
                clock: world.clock,
                auditTrail: world.useCases.auditTrail,
                hasher: BcryptPasswordHasher(cost: 4),
                policy: Self.policy()
            )
            guard
                case .signedIn(let cookie, let session) = try await signIn.signIn(
                    login: "alice",
                    password: Self.password,
                    address: "192.0.2.1"
                )
            else {
                Issue.record("sign-in refused")
                return
            }
            #expect(session.username == "alice" && session.role == .applicationManagementFullControl)
            #expect(cookie.count == 64 && session.csrfToken.count == 64 && cookie != session.csrfToken)

            // A second server on the same database resolves the cookie to the same admin.
            let other = try await world.sut.makeSecondStore()
            let replica = ConsoleSignIn(
                store: other,
                clock: world.clock,
                auditTrail: AuditTrail(store: other, clock: world.clock, logger: world.ports.logger),
                hasher: BcryptPasswordHasher(cost: 4)
            )
            let seen = try #require(try await replica.session(cookie: cookie))
            #expect(seen.caller == session.caller && seen.csrfToken == session.csrfToken)
            #expect(abs(seen.expiresAt.timeIntervalSince(session.expiresAt)) < 0.01)

            // Only the cookie's hash is stored: a copy of the database does not sign anyone in.
            let stored = try await world.sut.raw("SELECT id_hash FROM console_sessions").map {
                try $0.decode("id_hash", as: String.self)
            }
            #expect(stored == [SHA256Digest.hex(of: cookie)])
            #expect(try await replica.session(cookie: stored[0]) == nil)

            // Use cases run as the admin: the audit carries the account's name.
            try await world.useCases.manageInventory.addDevices(
                session.caller,
                [
                    Device(tenantID: world.tenant.id, serialNumber: try SerialNumber("C02SESSION01"))
                ]
            )
            let audit = try await world.useCases.catalogue.auditLog(session.caller, limit: 10)
            #expect(audit.contains { $0.actor == "alice" && $0.action == "device.add" })
            #expect(audit.contains { $0.actor == "alice" && $0.action == "console.sign-in" })

            try await replica.signOut(cookie: cookie, session: session)
            #expect(try await signIn.session(cookie: cookie) == nil)
        }
    }

    @Test(
        "a session ends after its lifetime, and a forged or malformed cookie finds nothing",
        arguments: StoreKind.allCases
    )
    func sessionsExpire(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            _ = try await Self.account(world, "bob", .readOnly)
            let signIn = ConsoleSignIn(
                store: world.store,
                clock: world.clock,
                auditTrail: world.useCases.auditTrail,
                hasher: BcryptPasswordHasher(cost: 4),
                policy: Self.policy()
            )
            guard
                case .signedIn(let cookie, _) = try await signIn.signIn(
                    login: "bob",
                    password: Self.password,
                    address: "192.0.2.1"
                )
            else {
                Issue.record("sign-in refused")
                return
            }
            for forged in [String(repeating: "0", count: 64), "", "' OR 1=1 --", cookie.uppercased() + "x"] {
                #expect(try await signIn.session(cookie: forged) == nil)
            }
            world.clock.advance(days: 7.9 / 24)
            #expect(try await signIn.session(cookie: cookie) != nil)
            world.clock.advance(days: 0.2 / 24)
            #expect(try await signIn.session(cookie: cookie) == nil)
        }
    }

    @Test(
        "failed sign-ins are throttled per account (even with the right password) and per address, then forgiven",
        arguments: StoreKind.allCases
    )
    func throttling(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let carol = try await Self.account(world, "carol", .readOnly)
            _ = try await Self.account(world, "dave", .readOnly)
            let signIn = ConsoleSignIn(
                store: world.store,
                clock: world.clock,
                auditTrail: world.useCases.auditTrail,
                hasher: BcryptPasswordHasher(cost: 4),
                policy: Self.policy(accounts: 3, addresses: 5)
            )
            for _ in 0..<3 {
                #expect(
                    try await signIn.signIn(login: "carol", password: "wrong guess here", address: "192.0.2.1")
                        == .refused
                )
            }
            // The account is locked for everyone, from any address, whatever the password.
            for address in ["192.0.2.1", "198.51.100.9"] {
                guard
                    case .throttled(let retry) = try await signIn.signIn(
                        login: "Carol",
                        password: Self.password,
                        address: address
                    )
                else {
                    Issue.record("not throttled from \(address)")
                    return
                }
                #expect(retry > 0 && retry <= 15 * 60)
            }
            #expect(SignInOutcome.throttled(retryAfter: 600).message.contains("10 minutes"))
            // Unknown usernames count too: the address reaches its limit, and locks out another account from there.
            #expect(try await signIn.signIn(login: "nobody", password: "x", address: "192.0.2.1") == .refused)
            #expect(try await signIn.signIn(login: "nobody2", password: "x", address: "192.0.2.1") == .refused)
            if case .throttled = try await signIn.signIn(login: "dave", password: Self.password, address: "192.0.2.1") {
            } else {
                Issue.record("address not throttled")
            }
            guard
                case .signedIn = try await signIn.signIn(login: "dave", password: Self.password, address: "203.0.113.5")
            else {
                Issue.record("dave refused from another address")
                return
            }
            // After the window, the right password works again and clears the account's count.
            world.clock.advance(days: 16.0 / 1440)
            guard
                case .signedIn = try await signIn.signIn(login: "carol", password: Self.password, address: "192.0.2.1")
            else {
                Issue.record("carol still refused after the window")
                return
            }
            let counts = try await world.store.signInFailures(keys: ["account:\(carol.id)"])
            #expect(counts.isEmpty)
            // A new failure drops every count whose window has passed: the table does not grow without end.
            #expect(
                try await signIn.signIn(login: "zed", password: "wrong guess here", address: "203.0.113.9") == .refused
            )
            let keys = try await world.sut.raw(
                "SELECT throttle_key FROM console_sign_in_failures ORDER BY throttle_key"
            ).map { try $0.decode("throttle_key", as: String.self) }
            #expect(keys == ["address:203.0.113.9", "login:zed"], "an unknown login is counted under its own name")
        }
    }

    @Test("every failed sign-in is slowed down by the policy's delay")
    func failuresAreSlow() async throws {
        try await withWorld(.sqlite) { world in
            _ = try await Self.account(world, "erin", .readOnly)
            let signIn = ConsoleSignIn(
                store: world.store,
                clock: world.clock,
                auditTrail: world.useCases.auditTrail,
                hasher: BcryptPasswordHasher(cost: 4),
                policy: Self.policy(delay: .milliseconds(300))
            )
            let started = ContinuousClock.now
            #expect(
                try await signIn.signIn(login: "erin", password: "wrong password!", address: "192.0.2.1") == .refused
            )
            #expect(ContinuousClock.now - started >= .milliseconds(300))
            #expect(
                try await signIn.signIn(login: "nobody-at-all", password: "wrong password!", address: "192.0.2.1")
                    == .refused
            )
        }
    }

    @Test("the default hash is bcrypt at cost 12, and an unknown username still costs a full bcrypt check")
    func slowHash() async throws {
        let hash = try await BcryptPasswordHasher().hash(Self.password)
        #expect(hash.hasPrefix("$2b$12$") && hash.count == 60 && !hash.contains(Self.password))
        #expect(await BcryptPasswordHasher().verify(Self.password, hash: hash))
        #expect(await !BcryptPasswordHasher().verify("another password", hash: hash))
        // The placeholder verified for unknown usernames is a well-formed cost-12 hash: as slow as a real one.
        // (Fastest of three runs each, as other tests share the CPU.)
        func fastest(_ hash: String) async -> Duration {
            var best = Duration.seconds(60)
            for _ in 0..<3 {
                let started = ContinuousClock.now
                _ = await BcryptPasswordHasher().verify("guess", hash: hash)
                best = min(best, ContinuousClock.now - started)
            }
            return best
        }
        let real = await fastest(hash)
        let placeholder = await fastest("$2b$12$6sZyHP7VT0h5QpWJfnDV2.Tm3yhbr1dRdW3Dsm4mmZ/0TaRLlJfWe")
        #expect(placeholder * 2 > real, "placeholder \(placeholder) vs real \(real)")
    }

    @Test(
        "admin accounts: bad names, short passwords, duplicates and callers without the tenant permission are refused",
        arguments: StoreKind.allCases
    )
    func accountRules(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let accounts = AdminAccounts(
                store: world.store,
                clock: world.clock,
                auditTrail: world.useCases.auditTrail,
                hasher: BcryptPasswordHasher(cost: 4)
            )
            let owner = Caller.system(world.tenant.id)
            await #expect(throws: AdminAccountError.weakPassword("The password must be at least 12 characters long.")) {
                try await accounts.create(owner, username: "frank", role: .readOnly, password: "short")
            }
            await #expect(throws: AdminAccountError.self) {
                try await accounts.create(owner, username: "frank smith", role: .readOnly, password: Self.password)
            }
            await #expect(throws: AdminAccountError.self) {
                try await accounts.create(owner, username: "<script>", role: .readOnly, password: Self.password)
            }
            for caller in [world.admin, world.reader] {
                await #expect(throws: AccessDenied.self) {
                    try await accounts.create(caller, username: "mallory", role: .mdmAdmin, password: Self.password)
                }
            }
            _ = try await accounts.create(owner, username: "Frank", role: .readOnly, password: Self.password)
            await #expect(throws: AdminAccountError.duplicateUsername("frank")) {
                try await accounts.create(owner, username: "FRANK", role: .mdmAdmin, password: Self.password)
            }
            let listed = try await accounts.list(owner)
            #expect(listed.map(\.username.value) == ["frank"] && listed[0].role == .readOnly)
        }
    }

    @Test(
        "the same username in two tenants: plain sign-in is ambiguous, tenant/username picks one",
        arguments: [StoreKind.sqlite]
    )
    func usernamesPerTenant(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let other = try await world.useCases.tenantAdministration.createTenant(
                name: "other",
                hostname: "h"
            )
            let accounts = AdminAccounts(
                store: world.store,
                clock: world.clock,
                auditTrail: world.useCases.auditTrail,
                hasher: BcryptPasswordHasher(cost: 4)
            )
            _ = try await accounts.create(
                .system(world.tenant.id),
                username: "gina",
                role: .readOnly,
                password: Self.password
            )
            _ = try await accounts.create(.system(other.id), username: "gina", role: .mdmAdmin, password: Self.password)
            let signIn = ConsoleSignIn(
                store: world.store,
                clock: world.clock,
                auditTrail: world.useCases.auditTrail,
                hasher: BcryptPasswordHasher(cost: 4),
                policy: Self.policy()
            )
            #expect(try await signIn.signIn(login: "gina", password: Self.password, address: "192.0.2.2") == .refused)
            guard
                case .signedIn(_, let session) = try await signIn.signIn(
                    login: "other/gina",
                    password: Self.password,
                    address: "192.0.2.2"
                )
            else {
                Issue.record("tenant/username refused")
                return
            }
            #expect(session.caller.tenantID == other.id && session.role == .mdmAdmin)
        }
    }
}
