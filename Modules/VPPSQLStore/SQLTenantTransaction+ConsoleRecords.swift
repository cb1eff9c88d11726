import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction: ConsoleRecords {
    static let adminColumns = "tenant_id, admin_id, username, role, password_hash, created_at"

    static func adminAccount(_ row: SQLRow) throws -> AdminAccount {
        AdminAccount(
            id: try row.decode("admin_id"),
            tenantID: try row.decode("tenant_id"),
            username: try Username(try row.decode("username")),
            role: Role(rawValue: try row.decode("role")) ?? .readOnly,
            passwordHash: try row.decode("password_hash"),
            createdAt: try row.decode("created_at")
        )
    }

    func insertAdminAccount(_ account: AdminAccount) async throws {
        do {
            try await exec(
                """
                INSERT INTO console_admins (\(unescaped: Self.adminColumns))
                VALUES (\(tenantID), \(account.id), \(account.username.value), \(account.role.rawValue),
                    \(account.passwordHash), \(account.createdAt))
                """,
                unique: { _ in StoreError.constraintViolation("duplicate admin") }
            )
        } catch StoreError.constraintViolation("duplicate admin") {
            throw AdminAccountError.duplicateUsername(account.username.value)
        }
    }

    func adminAccounts() async throws -> [AdminAccount] {
        try await exec(
            """
            SELECT \(unescaped: Self.adminColumns) FROM console_admins WHERE tenant_id = \(tenantID)
            ORDER BY username
            """
        )
        .map(Self.adminAccount)
    }

    func insertConsoleSession(_ session: ConsoleSessionRecord) async throws {
        try await exec(
            """
            INSERT INTO console_sessions (tenant_id, id_hash, admin_id, csrf_token, created_at, expires_at)
            VALUES (\(tenantID), \(session.idHash), \(session.adminID), \(session.csrfToken), \(session.createdAt),
                \(session.expiresAt))
            """
        )
    }

    func deleteExpiredConsoleSessions(now: Date) async throws {
        try await exec("DELETE FROM console_sessions WHERE tenant_id = \(tenantID) AND expires_at < \(now)")
    }
}
