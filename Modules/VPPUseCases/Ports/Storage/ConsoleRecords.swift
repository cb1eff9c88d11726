import Foundation
import VPPDomain

/// A signed-in console session as stored: only the SHA-256 of the cookie's value is kept, so a copy of
/// the database does not let anyone sign in.
public struct ConsoleSessionRecord: Hashable, Sendable {
    public let idHash: String
    public let tenantID: TenantID
    public let adminID: AdminID
    /// The synchronizer token every form of this session must carry (not a secret from the admin).
    public let csrfToken: String
    public let createdAt: Date
    public let expiresAt: Date

    public init(
        idHash: String,
        tenantID: TenantID,
        adminID: AdminID,
        csrfToken: String,
        createdAt: Date,
        expiresAt: Date
    ) {
        self.idHash = idHash
        self.tenantID = tenantID
        self.adminID = adminID
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// Failed sign-ins counted under one key (an account or an address) since `windowStart`.
public struct SignInFailures: Hashable, Sendable {
    public let failures: Int
    public let windowStart: Date

    public init(failures: Int, windowStart: Date) {
        self.failures = failures
        self.windowStart = windowStart
    }
}

/// Console admin accounts and sessions: rows inside one tenant's unit of work (see TenantTransaction).
public protocol ConsoleRecords: Sendable {
    /// Throws ``AdminAccountError/duplicateUsername(_:)`` when the tenant already has the username.
    func insertAdminAccount(_ account: AdminAccount) async throws
    func adminAccounts() async throws -> [AdminAccount]
    func insertConsoleSession(_ session: ConsoleSessionRecord) async throws
    /// Deletes the tenant's sessions that expired before `now`.
    func deleteExpiredConsoleSessions(now: Date) async throws
}

/// Console admin accounts and sessions: lookups that are not scoped to one tenant (see Store).
/// A session cookie or a typed username names no tenant, so these are found first, then the tenant.
public protocol ConsoleDirectory: Sendable {
    /// Every tenant's account with this username.
    func adminAccounts(username: Username) async throws -> [AdminAccount]
    /// The unexpired session whose cookie hashes to `idHash`, with its account (a deleted account has none).
    func consoleSession(idHash: String, now: Date) async throws -> (ConsoleSessionRecord, AdminAccount)?
    func deleteConsoleSession(idHash: String) async throws
    /// The failures counted under each key (keys without any are absent).
    func signInFailures(keys: [String]) async throws -> [String: SignInFailures]
    /// Counts one password check under `key` before it is made, in one conditional statement, unless `limit`
    /// checks were already counted in the current window; a window that began before `windowStartsAfter` starts
    /// again. Returns the count with this one, or `nil` when the limit was reached (nothing counted). However many
    /// sign-ins arrive at once, on any replica, at most `limit` are counted per window. Windows that have passed
    /// are dropped, so guessing many names or addresses cannot grow the table without end.
    func claimSignInAttempt(
        key: String,
        limit: Int,
        now: Date,
        windowStartsAfter: Date
    ) async throws
        -> SignInFailures?
    /// Gives back one counted check (a sign-in that succeeded, or a claim another key refused); the row goes at zero.
    func releaseSignInAttempt(key: String) async throws
    func clearSignInFailures(key: String) async throws
}

/// Which rows of a long console list to read: the sort column, the direction, a page, a search text.
/// Lists are sorted and cut in the database, so a page costs the same with 100 or 100,000 rows.
