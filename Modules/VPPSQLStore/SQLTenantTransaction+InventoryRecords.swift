import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction: InventoryRecords {
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

    func devicePage(after: SerialNumber?, limit: Int, filter: DeviceFilter) async throws -> [Device] {
        try await devicePage(
            after: after.map { ListingPosition(.text($0.value), key: $0) },
            limit: limit,
            filter: filter,
            sort: ListingSort()
        )
    }

    func devicePage(
        after: ListingPosition<SerialNumber>?,
        limit: Int,
        filter: DeviceFilter,
        sort: ListingSort<DeviceSortColumn>
    ) async throws -> [Device] {
        var conditions = Self.conditions(filter)
        let column: SQLQuery? =
            switch sort.column {
            case .serial: nil
            case .name: "coalesce(name, '')"
            case .enrollment: "enrollment_state"
            }
        let direction: SQLQuery = sort.descending ? "DESC" : "ASC"
        let comparison: SQLQuery = sort.descending ? "<" : ">"
        if let after {
            // Keyset on (column, serial): a row value comparison, which both databases read as the ORDER BY below.
            if let column {
                conditions.append(
                    "(\(fragment: column), serial) \(fragment: comparison) (\(after.value.sqlValue), \(after.key))"
                )
            } else {
                conditions.append("serial \(fragment: comparison) \(after.key)")
            }
        }
        let order: SQLQuery =
            column.map { "\(fragment: $0) \(fragment: direction), serial \(fragment: direction)" }
            ?? "serial \(fragment: direction)"
        return try await exec(
            """
            SELECT \(fragment: Self.deviceColumns) FROM devices
            WHERE tenant_id = \(tenantID) AND \(fragment: .joined(conditions, separator: " AND "))
            ORDER BY \(fragment: order) LIMIT \(max(0, limit))
            """
        ).compactMap(device(from:))
    }

    func deviceCount(filter: DeviceFilter) async throws -> Int {
        let rows = try await exec(
            """
            SELECT count(*) AS n FROM devices
            WHERE tenant_id = \(tenantID) AND \(fragment: .joined(Self.conditions(filter), separator: " AND "))
            """
        )
        return Int(try rows.first?.decode("n", as: Int64.self) ?? 0)
    }

    /// The conditions a device filter puts on the devices table.
    static func conditions(_ filter: DeviceFilter) -> [SQLQuery] {
        var conditions: [SQLQuery] = ["true"]
        if let prefix = filter.serialPrefix?.uppercased(), !prefix.isEmpty {
            // A range on the primary key, not LIKE (which an index in a non-C collation cannot serve).
            conditions.append("serial >= \(prefix) AND serial < \(prefix + "\u{10FFFF}")")
        }
        if let enrolled = filter.enrolled {
            conditions.append(enrolled ? "enrollment_state = 'enrolled'" : "enrollment_state <> 'enrolled'")
        }
        if !filter.includeRetired { conditions.append("retired = \(false)") }
        if let search = filter.search, !search.isEmpty {
            let pattern = LikePattern.containing(search)
            conditions.append(
                "(lower(serial) LIKE \(pattern) ESCAPE '\\' OR lower(coalesce(name, '')) LIKE \(pattern) ESCAPE '\\')"
            )
        }
        return conditions
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
    private func users(where condition: SQLQuery, limit: Int? = nil) async throws -> [ManagedUser] {
        let limitClause: SQLQuery = limit.map { "LIMIT \($0)" } ?? ""
        return try await exec(
            """
            SELECT client_user_id, email, status FROM managed_users
            WHERE tenant_id = \(tenantID) AND \(fragment: condition) ORDER BY client_user_id \(fragment: limitClause)
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

    func setUserEnrollment(_ id: ClientUserID, enrollmentID: String?) async throws -> Bool {
        try await !exec(
            """
            UPDATE managed_users SET enrollment_id = \(enrollmentID)
            WHERE tenant_id = \(tenantID) AND client_user_id = \(id) RETURNING client_user_id
            """
        ).isEmpty
    }

    func userEnrollments(_ ids: [ClientUserID]) async throws -> [ClientUserID: String] {
        let found = try await lookupChunks(ids) { chunk in
            try await exec(
                """
                SELECT client_user_id, enrollment_id FROM managed_users
                WHERE tenant_id = \(tenantID) AND client_user_id IN (\(list: chunk)) AND enrollment_id IS NOT NULL
                """
            ).map { row -> (ClientUserID, String) in
                (try row.decode("client_user_id"), try row.decode("enrollment_id"))
            }
        }
        return Dictionary(found, uniquingKeysWith: { first, _ in first })
    }

    func userPage(after: ClientUserID?, limit: Int, search: String?) async throws -> [ManagedUser] {
        var conditions: [SQLQuery] = ["true"]
        if let after { conditions.append("client_user_id > \(after)") }
        if let search, !search.isEmpty {
            let pattern = LikePattern.containing(search)
            conditions.append(
                """
                (lower(client_user_id) LIKE \(pattern) ESCAPE '\\'
                    OR lower(coalesce(email, '')) LIKE \(pattern) ESCAPE '\\')
                """
            )
        }
        return try await users(where: .joined(conditions, separator: " AND "), limit: max(0, limit))
    }
}

extension ListingPosition.Value {
    /// The value bound as the store keeps it (text, or milliseconds).
    var sqlValue: SQLValue {
        switch self {
        case .text(let text): text.sqlValue
        case .number(let number): number.sqlValue
        }
    }
}
