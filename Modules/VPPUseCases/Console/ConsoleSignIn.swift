import Foundation
import VPPDomain

/// How hard the console pushes back on password guessing. Failures are counted in the database, so
/// every replica sees the same counts.
public struct SignInPolicy: Sendable {
    /// Failed sign-ins to one account within ``window`` before it refuses to check passwords.
    public var accountLimit = 5
    /// Failed sign-ins from one address within ``window`` (an address may try several accounts).
    public var addressLimit = 20
    public var window: TimeInterval = 15 * 60
    /// Added to every failed attempt, so guessing is slow even below the limits.
    public var failureDelay: Duration = .seconds(1)
    /// A session ends this long after sign-in, whatever happens.
    public var sessionLifetime: TimeInterval = 8 * 3600

    public init() {}
}

/// A signed-in admin as the console sees them.
public struct ConsoleSession: Sendable, Hashable {
    /// The admin acting: audits carry the account's username.
    public let caller: Caller
    public let csrfToken: String
    public let expiresAt: Date

    public var username: String { caller.admin.name }
    public var role: Role { caller.admin.role }
}

/// What a sign-in attempt came to.
public enum SignInOutcome: Sendable, Hashable {
    /// `cookie` is the session's secret, to be sent to the browser and never stored or logged.
    case signedIn(cookie: String, session: ConsoleSession)
    /// Wrong username or password (which one is not said).
    case refused
    /// Too many failures for this account or address; nothing was checked.
    case throttled(retryAfter: TimeInterval)

    /// The sentence shown on the sign-in form.
    public var message: String {
        switch self {
        case .signedIn: return "Signed in."
        case .refused: return "Wrong username or password."
        case .throttled(let seconds):
            let minutes = max(1, Int((seconds / 60).rounded(.up)))
            return "Too many failed sign-ins. Try again in \(minutes) minute\(minutes > 1 ? "s" : "")."
        }
    }
}

/// Sign-in with a slow hash, database-stored sessions, sign-out, and throttling of failures per account
/// and per address.
public struct ConsoleSignIn: Sendable {
    let store: any Store
    let clock: any Clock
    let auditTrail: AuditTrail
    let hasher: any PasswordHasher
    public let policy: SignInPolicy

    /// Takes only what this use case touches.
    public init(
        store: any Store,
        clock: any Clock,
        auditTrail: AuditTrail,
        hasher: any PasswordHasher,
        policy: SignInPolicy = SignInPolicy()
    ) {
        self.store = store
        self.clock = clock
        self.auditTrail = auditTrail
        self.hasher = hasher
        self.policy = policy
    }

    /// Checks `login` ("username", or "tenant/username" when several tenants have that username) and `password`.
    ///
    /// The attempt is counted before the password is hashed, under the account the login names (so `victim`,
    /// `/victim`, `Victim/` and `acme/victim` share one count) and under the address, each in one conditional
    /// statement: at most ``SignInPolicy/accountLimit`` passwords per account and ``SignInPolicy/addressLimit``
    /// per address are ever checked in a window, however many arrive at once, on any replica. A sign-in that
    /// succeeds clears its account's count and gives its address's attempt back.
    public func signIn(login: String, password: String, address: String) async throws -> SignInOutcome {
        let now = clock.now()
        let account = try await resolve(login)
        let accountKey = account.map { "account:\($0.id)" } ?? "login:" + Self.normalised(login)
        let addressKey = "address:" + String(address.prefix(64))
        let windowStartsAfter = now.addingTimeInterval(-policy.window)
        var claimed: [String] = []
        for (key, limit) in [(addressKey, policy.addressLimit), (accountKey, policy.accountLimit)] {
            guard
                try await store.claimSignInAttempt(
                    key: key,
                    limit: limit,
                    now: now,
                    windowStartsAfter: windowStartsAfter
                ) != nil
            else {
                // Not counted against the other key either: a locked account does not use up its address's share.
                for earlier in claimed { try await store.releaseSignInAttempt(key: earlier) }
                let start = try await store.signInFailures(keys: [key])[key]?.windowStart ?? now
                try await Task.sleep(for: policy.failureDelay)
                return .throttled(retryAfter: max(1, start.addingTimeInterval(policy.window).timeIntervalSince(now)))
            }
            claimed.append(key)
        }
        // Without an account, a hash is still checked, so a wrong username takes as long as a wrong password.
        let matches = await hasher.verify(password, hash: account?.passwordHash ?? Self.placeholderHash)
        guard let account, matches else {
            if let account {
                await auditTrail.recordSeparately(
                    Caller(tenantID: account.tenantID, admin: account.admin),
                    AuditEntry(
                        .consoleSignIn,
                        .admin(username: account.username.value),
                        .refused,
                        "wrong password from \(address)"
                    )
                )
            }
            try await Task.sleep(for: policy.failureDelay)
            return .refused
        }
        try await store.clearSignInFailures(key: accountKey)
        try await store.releaseSignInAttempt(key: addressKey)
        let cookie = ConsoleRandom.hex()
        let record = ConsoleSessionRecord(
            idHash: SHA256Digest.hex(of: cookie),
            tenantID: account.tenantID,
            adminID: account.id,
            csrfToken: ConsoleRandom.hex(),
            createdAt: now,
            expiresAt: now.addingTimeInterval(policy.sessionLifetime)
        )
        let caller = Caller(tenantID: account.tenantID, admin: account.admin)
        try await store.inTenant(account.tenantID) { tx in
            try await tx.deleteExpiredConsoleSessions(now: now)
            try await tx.insertConsoleSession(record)
            try await auditTrail.record(
                tx,
                caller,
                AuditEntry(.consoleSignIn, .admin(username: account.username.value), .ok, "from \(address)")
            )
        }
        return .signedIn(
            cookie: cookie,
            session: ConsoleSession(caller: caller, csrfToken: record.csrfToken, expiresAt: record.expiresAt)
        )
    }

    /// A login that names no account, as one key: its parts without empty ones, trimmed and lower-cased, so the
    /// spellings of one name share a count.
    static func normalised(_ login: String) -> String {
        String(
            login.split(separator: "/", omittingEmptySubsequences: true)
                .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
                .joined(separator: "/").prefix(130)
        )
    }

    /// The session a cookie stands for, or `nil` (unknown, expired, or its account deleted).
    public func session(cookie: String) async throws -> ConsoleSession? {
        guard cookie.count == 64, cookie.allSatisfy(\.isHexDigit) else { return nil }
        guard
            let (record, account) = try await store.consoleSession(
                idHash: SHA256Digest.hex(of: cookie),
                now: clock.now()
            )
        else { return nil }
        // The role is read from the account on every request: a changed role applies at once.
        return ConsoleSession(
            caller: Caller(tenantID: record.tenantID, admin: account.admin),
            csrfToken: record.csrfToken,
            expiresAt: record.expiresAt
        )
    }

    /// Ends the session; audited under the admin's name.
    public func signOut(cookie: String, session: ConsoleSession) async throws {
        try await store.deleteConsoleSession(idHash: SHA256Digest.hex(of: cookie))
        await auditTrail.recordSeparately(
            session.caller,
            AuditEntry(.consoleSignOut, .admin(username: session.username))
        )
    }

    /// The account `login` names, if exactly one does.
    func resolve(_ login: String) async throws -> AdminAccount? {
        let parts = login.split(separator: "/", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let username = try? Username(parts.last ?? "") else { return nil }
        let accounts = try await store.adminAccounts(username: username)
        if parts.count == 2 {
            guard let tenant = try await store.tenant(named: parts[0]) else { return nil }
            return accounts.first { $0.tenantID == tenant.id }
        }
        return accounts.count == 1 ? accounts[0] : nil
    }

    /// A bcrypt hash of a random string nobody knows, verified when no account matches (equal timing).
    static let placeholderHash = "$2b$12$6sZyHP7VT0h5QpWJfnDV2.Tm3yhbr1dRdW3Dsm4mmZ/0TaRLlJfWe"
}
