import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction: ConsoleRecords {
    static let adminColumns = "tenant_id, admin_id, username, role, password_hash, created_at"

    static func adminAccount(_ row: SQLRow, offset: Int = 0) throws -> AdminAccount {
        AdminAccount(id: AdminID(try row.uuid(offset + 1)), tenantID: TenantID(try row.uuid(offset)),
                     username: try Username(try row.text(offset + 2)),
                     role: Role(rawValue: try row.text(offset + 3)) ?? .readOnly, passwordHash: try row.text(offset + 4),
                     createdAt: try row.time(offset + 5))
    }

    func insertAdminAccount(_ account: AdminAccount) async throws {
        do {
            try await exec("INSERT INTO console_admins (\(Self.adminColumns)) VALUES (?, ?, ?, ?, ?, ?)",
                           [tenant, .uuid(account.id.rawValue), .text(account.username.value), .text(account.role.rawValue),
                            .text(account.passwordHash), .time(account.createdAt)],
                           unique: { _ in StoreError.constraintViolation("duplicate admin") })
        } catch StoreError.constraintViolation("duplicate admin") {
            throw AdminAccountError.duplicateUsername(account.username.value)
        }
    }

    func adminAccounts() async throws -> [AdminAccount] {
        try await exec("SELECT \(Self.adminColumns) FROM console_admins WHERE tenant_id = ? ORDER BY username", [tenant])
            .map { try Self.adminAccount($0) }
    }

    func insertConsoleSession(_ session: ConsoleSessionRecord) async throws {
        try await exec(
            "INSERT INTO console_sessions (tenant_id, id_hash, admin_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            [tenant, .text(session.idHash), .uuid(session.adminID.rawValue), .text(session.csrfToken), .time(session.createdAt),
             .time(session.expiresAt)])
    }

    func deleteExpiredConsoleSessions(now: Date) async throws {
        try await exec("DELETE FROM console_sessions WHERE tenant_id = ? AND expires_at < ?", [tenant, .time(now)])
    }
}

extension SQLStore: ConsoleDirectory {
    public func adminAccounts(username: Username) async throws -> [AdminAccount] {
        try await run { connection in
            try await connection.query("SELECT \(SQLTenantTransaction.adminColumns) FROM console_admins WHERE username = ? ORDER BY tenant_id",
                                       .text(username.value))
                .map { try SQLTenantTransaction.adminAccount($0) }
        }
    }

    public func consoleSession(idHash: String, now: Date) async throws -> (ConsoleSessionRecord, AdminAccount)? {
        try await run { connection in
            try await connection.query(
                """
                SELECT s.tenant_id, s.id_hash, s.admin_id, s.csrf_token, s.created_at, s.expires_at,
                       a.tenant_id, a.admin_id, a.username, a.role, a.password_hash, a.created_at
                FROM console_sessions s JOIN console_admins a ON a.tenant_id = s.tenant_id AND a.admin_id = s.admin_id
                WHERE s.id_hash = ? AND s.expires_at > ?
                """, .text(idHash), .time(now)
            ).first.map { row in
                (ConsoleSessionRecord(idHash: try row.text(1), tenantID: TenantID(try row.uuid(0)), adminID: AdminID(try row.uuid(2)),
                                      csrfToken: try row.text(3), createdAt: try row.time(4), expiresAt: try row.time(5)),
                 try SQLTenantTransaction.adminAccount(row, offset: 6))
            }
        }
    }

    public func deleteConsoleSession(idHash: String) async throws {
        _ = try await run { connection in try await connection.query("DELETE FROM console_sessions WHERE id_hash = ?", .text(idHash)) }
    }

    public func signInFailures(keys: [String]) async throws -> [String: SignInFailures] {
        guard !keys.isEmpty else { return [:] }
        let marks = Array(repeating: "?", count: keys.count).joined(separator: ", ")
        return try await run { connection in
            var result: [String: SignInFailures] = [:]
            for row in try await connection.query(
                "SELECT throttle_key, failures, window_start FROM console_sign_in_failures WHERE throttle_key IN (\(marks))", keys.map(SQLValue.text)) {
                result[try row.text(0)] = SignInFailures(failures: try row.int(1), windowStart: try row.time(2))
            }
            return result
        }
    }

    public func recordSignInFailure(key: String, now: Date, windowStartsAfter: Date) async throws -> SignInFailures {
        // One statement, so concurrent failures on several replicas all count.
        try await run { connection in
            let rows = try await connection.query(
                """
                INSERT INTO console_sign_in_failures (throttle_key, failures, window_start) VALUES (?, 1, ?)
                ON CONFLICT (throttle_key) DO UPDATE SET
                    failures = CASE WHEN console_sign_in_failures.window_start <= ? THEN 1 ELSE console_sign_in_failures.failures + 1 END,
                    window_start = CASE WHEN console_sign_in_failures.window_start <= ? THEN excluded.window_start
                                        ELSE console_sign_in_failures.window_start END
                RETURNING failures, window_start
                """, .text(key), .time(now), .time(windowStartsAfter), .time(windowStartsAfter))
            guard let row = rows.first else { throw StoreError.unavailable("no row returned for the sign-in failure count") }
            return SignInFailures(failures: try row.int(0), windowStart: try row.time(1))
        }
    }

    public func clearSignInFailures(key: String) async throws {
        _ = try await run { connection in
            try await connection.query("DELETE FROM console_sign_in_failures WHERE throttle_key = ?", .text(key))
        }
    }
}
