import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction {
    func upsertDevices(_ devices: [Device]) async throws {
        try await insertMany(
            "INSERT INTO devices (tenant_id, serial, name, installed, retired)",
            rows: devices.map { device in
                """
                (\(tenantID), \(device.serialNumber), \(device.name),
                \(JSONList.encode(device.installedAdamIDs.sorted())), \(device.isRetired))
                """
            },
            suffix: """
                ON CONFLICT (tenant_id, serial) DO UPDATE SET name = excluded.name, installed = excluded.installed,
                retired = excluded.retired
                """
        )
    }

    /// The device columns ``device(from:)`` reads, with their MDM enrollment (added by migration 0008).
    static let deviceColumns: SQLQuery = """
        serial, name, installed, retired, enrollment_state, enrollment_id, model, os_version, platform, last_seen_at,
        unenrolled_at
        """

    /// A device row; nil for a serial that no longer passes the domain's check (never listed, never failing a page).
    func device(from row: SQLRow) throws -> Device? {
        guard let serial = try? row.decode("serial", as: SerialNumber.self) else { return nil }
        let storedState = try row.decode("enrollment_state", as: String.self)
        let storedPlatform = try row.decode("platform", as: String.self)
        guard let state = EnrollmentState(rawValue: storedState) else {
            throw StoreError.unreadable("enrollment state \(storedState)")
        }
        guard let platform = DevicePlatform(rawValue: storedPlatform) else {
            throw StoreError.unreadable("platform \(storedPlatform)")
        }
        let enrollment = MDMEnrollment(
            state: state,
            enrollmentID: try row.decode("enrollment_id"),
            model: try row.decode("model"),
            osVersion: try row.decode("os_version"),
            platform: platform,
            lastSeenAt: try row.decode("last_seen_at"),
            unenrolledAt: try row.decode("unenrolled_at")
        )
        return Device(
            tenantID: tenantID,
            serialNumber: serial,
            name: try row.decode("name"),
            installedAdamIDs: Set(JSONList.decode(try row.decode("installed"))),
            isRetired: try row.decode("retired"),
            enrollment: enrollment
        )
    }

    /// Devices matching `condition` (SQL over the devices table, with its binds), ordered by serial.
    func devices(where condition: SQLQuery, limit: Int? = nil) async throws -> [Device] {
        let limitClause: SQLQuery = limit.map { "LIMIT \($0)" } ?? ""
        return try await exec(
            """
            SELECT \(fragment: Self.deviceColumns) FROM devices WHERE tenant_id = \(tenantID) AND \(fragment: condition)
            ORDER BY serial \(fragment: limitClause)
            """
        ).compactMap(device(from:))
    }

    func devices() async throws -> [Device] { try await devices(where: "true") }

    func device(_ serial: SerialNumber) async throws -> Device? {
        try await devices(where: "serial = \(serial)").first
    }

    func devices(_ serials: [SerialNumber]) async throws -> [Device] {
        try await lookupChunks(serials) { try await devices(where: "serial IN (\(list: $0))") }
    }

    /// Runs `read` over distinct `values` in chunks small enough for the dialect's bind cap (a bulk request
    /// stays one indexed lookup list per statement) and concatenates the results.
    func lookupChunks<Value: Hashable, Row>(
        _ values: [Value],
        _ read: ([Value]) async throws -> [Row]
    ) async throws -> [Row] {
        var seen: Set<Value> = []
        let distinct = values.filter { seen.insert($0).inserted }
        // A few binds are left for the statement's own values (the tenant, a state).
        let size = max(1, min(1000, dialect.maxBindsPerStatement - 8))
        var found: [Row] = []
        for start in stride(from: 0, to: distinct.count, by: size) {
            found += try await read(Array(distinct[start..<min(start + size, distinct.count)]))
        }
        return found
    }

    func activeLicencesOfRetired() async throws -> [Assignment] {
        // One statement: the database filters the tenant's active rows by the retired devices and users it
        // holds, so neither the inventory nor the ledger comes back to the server.
        try await exec(
            """
            SELECT \(unescaped: Self.assignmentColumns) FROM assignments a
            WHERE a.tenant_id = \(tenantID) AND a.state = \(AssignmentState.Code.active.rawValue)
                AND (a.serial IN (SELECT serial FROM devices WHERE tenant_id = \(tenantID) AND retired = \(true))
                    OR a.client_user_id IN (SELECT client_user_id FROM managed_users
                        WHERE tenant_id = \(tenantID) AND status = \(ManagedUserStatus.retired.rawValue)))
                AND EXISTS (SELECT 1 FROM apps p WHERE p.tenant_id = a.tenant_id AND p.adam_id = a.adam_id
                    AND p.pricing = a.pricing AND p.revocable = \(true))
            ORDER BY a.assignment_id
            """
        ).compactMap(assignment(from:))
    }

    func devicePage(
        after: SerialNumber?,
        limit: Int,
        serialPrefix: String?,
        enrolled: Bool?,
        includeRetired: Bool
    ) async throws -> [Device] {
        var conditions: [SQLQuery] = ["true"]
        if let after { conditions.append("serial > \(after)") }
        if let prefix = serialPrefix?.uppercased(), !prefix.isEmpty {
            // A range on the primary key, not LIKE (which an index in a non-C collation cannot serve).
            conditions.append("serial >= \(prefix) AND serial < \(prefix + "\u{10FFFF}")")
        }
        if let enrolled {
            conditions.append(enrolled ? "enrollment_state = 'enrolled'" : "enrollment_state <> 'enrolled'")
        }
        if !includeRetired { conditions.append("retired = \(false)") }
        return try await devices(where: .joined(conditions, separator: " AND "), limit: max(0, limit))
    }

    func activeLicences(serials: [SerialNumber]) async throws -> [Assignment] {
        // Migration 0009's (tenant_id, serial, state) index on assignments (partial on `serial IS NOT NULL`, which
        // `serial IN (…)` implies: both databases search it on the whole key).
        try await lookupChunks(serials) { chunk in
            try await exec(
                """
                SELECT \(unescaped: Self.assignmentColumns) FROM assignments
                WHERE tenant_id = \(tenantID) AND serial IN (\(list: chunk))
                    AND state = \(AssignmentState.Code.active.rawValue)
                """
            ).compactMap(assignment(from:))
        }.sorted { $0.id < $1.id }
    }

    func upsertUsers(_ users: [ManagedUser]) async throws {
        try await insertMany(
            "INSERT INTO managed_users (tenant_id, client_user_id, email, status)",
            rows: users.map { "(\(tenantID), \($0.clientUserID), \($0.email), \($0.status.rawValue))" },
            suffix:
                "ON CONFLICT (tenant_id, client_user_id) DO UPDATE SET email = excluded.email, status = excluded.status"
        )
    }

    /// Users matching `condition` (SQL over managed_users, with its binds), ordered by id.
    private func users(where condition: SQLQuery) async throws -> [ManagedUser] {
        try await exec(
            """
            SELECT client_user_id, email, status FROM managed_users
            WHERE tenant_id = \(tenantID) AND \(fragment: condition) ORDER BY client_user_id
            """
        )
        .compactMap { row in
            guard let id = try? row.decode("client_user_id", as: ClientUserID.self) else { return nil }
            return try? ManagedUser(
                tenantID: tenantID,
                clientUserID: id,
                email: try row.decode("email"),
                status: ManagedUserStatus(rawValue: try row.decode("status")) ?? .registered
            )
        }
    }

    func users() async throws -> [ManagedUser] { try await users(where: "true") }

    func users(_ ids: [ClientUserID]) async throws -> [ManagedUser] {
        try await lookupChunks(ids) { try await users(where: "client_user_id IN (\(list: $0))") }
    }
}
