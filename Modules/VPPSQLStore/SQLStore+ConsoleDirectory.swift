import Foundation
import VPPDomain
import VPPUseCases

extension SQLStore: ConsoleDirectory {
    public func adminAccounts(username: Username) async throws -> [AdminAccount] {
        try await run { connection in
            try await connection.query(
                """
                SELECT \(unescaped: SQLTenantTransaction.adminColumns) FROM console_admins
                WHERE username = \(username.value) ORDER BY tenant_id
                """
            )
            .map(SQLTenantTransaction.adminAccount)
        }
    }

    public func consoleSession(idHash: String, now: Date) async throws -> (ConsoleSessionRecord, AdminAccount)? {
        try await run { connection in
            // The admin's columns under their own names, the session's where they would collide.
            try await connection.query(
                """
                SELECT s.id_hash, s.csrf_token, s.created_at AS session_created_at, s.expires_at,
                       a.tenant_id, a.admin_id, a.username, a.role, a.password_hash, a.created_at
                FROM console_sessions s JOIN console_admins a ON a.tenant_id = s.tenant_id AND a.admin_id = s.admin_id
                WHERE s.id_hash = \(idHash) AND s.expires_at > \(now)
                """
            ).first.map { row in
                (
                    ConsoleSessionRecord(
                        idHash: try row.decode("id_hash"),
                        tenantID: try row.decode("tenant_id"),
                        adminID: try row.decode("admin_id"),
                        csrfToken: try row.decode("csrf_token"),
                        createdAt: try row.decode("session_created_at"),
                        expiresAt: try row.decode("expires_at")
                    ),
                    try SQLTenantTransaction.adminAccount(row)
                )
            }
        }
    }

    public func deleteConsoleSession(idHash: String) async throws {
        _ = try await run { connection in
            try await connection.query("DELETE FROM console_sessions WHERE id_hash = \(idHash)")
        }
    }

    public func signInFailures(keys: [String]) async throws -> [String: SignInFailures] {
        guard !keys.isEmpty else { return [:] }
        return try await run { connection in
            var result: [String: SignInFailures] = [:]
            for row in try await connection.query(
                """
                SELECT throttle_key, failures, window_start FROM console_sign_in_failures
                WHERE throttle_key IN (\(list: keys))
                """
            ) {
                result[try row.decode("throttle_key")] = SignInFailures(
                    failures: try row.decode("failures"),
                    windowStart: try row.decode("window_start")
                )
            }
            return result
        }
    }

    public func claimSignInAttempt(
        key: String,
        limit: Int,
        now: Date,
        windowStartsAfter: Date
    ) async throws
        -> SignInFailures?
    {
        // One conditional upsert: PostgreSQL locks the row for the conflicting update, so concurrent claims on
        // any replica are counted one after the other and the WHERE refuses the one past the limit (SQLite has one
        // writer). Counted before the slow hash, so no check starts unless its attempt was counted.
        try await run { connection in
            _ = try await connection.query(
                "DELETE FROM console_sign_in_failures WHERE window_start <= \(windowStartsAfter)"
            )
            let rows = try await connection.query(
                """
                INSERT INTO console_sign_in_failures (throttle_key, failures, window_start) VALUES (\(key), 1, \(now))
                ON CONFLICT (throttle_key) DO UPDATE SET
                    failures = CASE WHEN console_sign_in_failures.window_start <= \(windowStartsAfter) THEN 1
                                    ELSE console_sign_in_failures.failures + 1 END,
                    window_start = CASE WHEN console_sign_in_failures.window_start <= \(windowStartsAfter)
                                        THEN excluded.window_start ELSE console_sign_in_failures.window_start END
                WHERE console_sign_in_failures.window_start <= \(windowStartsAfter)
                   OR console_sign_in_failures.failures < \(limit)
                RETURNING failures, window_start
                """
            )
            guard let row = rows.first else { return nil }
            return SignInFailures(failures: try row.decode("failures"), windowStart: try row.decode("window_start"))
        }
    }

    public func releaseSignInAttempt(key: String) async throws {
        try await run { connection in
            _ = try await connection.query(
                "UPDATE console_sign_in_failures SET failures = failures - 1 WHERE throttle_key = \(key)"
            )
            _ = try await connection.query(
                "DELETE FROM console_sign_in_failures WHERE throttle_key = \(key) AND failures <= 0"
            )
        }
    }

    public func clearSignInFailures(key: String) async throws {
        _ = try await run { connection in
            try await connection.query("DELETE FROM console_sign_in_failures WHERE throttle_key = \(key)")
        }
    }
}
