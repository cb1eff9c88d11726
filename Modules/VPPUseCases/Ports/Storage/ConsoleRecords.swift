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
public protocol ConsoleRecords: Sendable, ConsoleListRecords {
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
public struct ListWindow<Column: Sendable>: Sendable {
    public var column: Column
    public var descending: Bool
    public var limit: Int
    public var offset: Int
    /// Case-insensitive text the rows must contain (empty: every row).
    public var search: String

    public init(column: Column, descending: Bool = false, limit: Int = 50, offset: Int = 0, search: String = "") {
        self.column = column
        self.descending = descending
        self.limit = limit
        self.offset = offset
        self.search = search
    }
}

/// One page of a list, and how many rows the whole list has.
public struct ListPage<Row: Sendable>: Sendable {
    public let rows: [Row]
    public let total: Int

    public init(rows: [Row], total: Int) {
        self.rows = rows
        self.total = total
    }
}

/// Columns an app's licence list sorts by.
public enum LicenceListColumn: String, Sendable, CaseIterable { case assignee, token, state, since }
/// Columns the device list sorts by.
public enum DeviceListColumn: String, Sendable, CaseIterable { case serial, name, enrollment, licences }
/// Columns the user list sorts by.
public enum UserListColumn: String, Sendable, CaseIterable { case id, email, status, licences }

/// A licence as the app page lists it.
public struct ConsoleLicenceRow: Sendable, Hashable {
    public let serialNumber: String?
    public let clientUserID: String?
    /// The granting token's location (nil when the token is gone).
    public let tokenLocation: String?
    public let state: String
    public let reason: String?
    /// When the licence last changed state (nil for rows older than the ledger).
    public let since: Date?

    public init(
        serialNumber: String?,
        clientUserID: String?,
        tokenLocation: String?,
        state: String,
        reason: String?,
        since: Date?
    ) {
        self.serialNumber = serialNumber
        self.clientUserID = clientUserID
        self.tokenLocation = tokenLocation
        self.state = state
        self.reason = reason
        self.since = since
    }
}

/// A device or a user with the licences it holds (app name and state), as the inventory pages list them.
public struct ConsoleHolderRow: Sendable, Hashable {
    public let id: String
    /// The device's name or the user's e-mail.
    public let label: String?
    /// Enrollment state of a device, status of a user.
    public let state: String
    public let licencesHeld: Int
    public let licences: [String]

    public init(id: String, label: String?, state: String, licencesHeld: Int, licences: [String]) {
        self.id = id
        self.label = label
        self.state = state
        self.licencesHeld = licencesHeld
        self.licences = licences
    }
}

/// The console's paged reads (sorted, searched and cut in the database).
public protocol ConsoleListRecords: Sendable {
    func consoleLicences(
        _ asset: AssetKey,
        _ window: ListWindow<LicenceListColumn>
    ) async throws -> ListPage<ConsoleLicenceRow>
    func consoleDevices(_ window: ListWindow<DeviceListColumn>) async throws -> ListPage<ConsoleHolderRow>
    func consoleUsers(_ window: ListWindow<UserListColumn>) async throws -> ListPage<ConsoleHolderRow>
    /// The names of these apps (those without metadata are absent).
    func appNames(_ assets: Set<AssetKey>) async throws -> [AssetKey: String]
    /// Devices (not retired) holding no licence of `asset`, by serial number, at most `limit`, looking only at
    /// the first `scan` devices (so the cost of a page stays bounded however large the fleet).
    func devicesWithout(_ asset: AssetKey, limit: Int, scan: Int) async throws -> [(serial: String, name: String?)]
}
