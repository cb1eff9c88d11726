import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction: DeviceCommandRecords {
    func enqueueDeviceCommands(_ commands: [DeviceCommand]) async throws {
        // One command of each kind per licence, whichever server learns of it and however often; due from its creation.
        try await insertMany(
            """
            INSERT INTO device_commands (tenant_id, command_id, serial, kind, adam_id, assignment_id, created_at,
                next_attempt_at)
            """,
            rows: commands.map {
                """
                (\(tenantID), \($0.id), \($0.serialNumber), \($0.kind.rawValue), \($0.adamID), \($0.assignmentID),
                \($0.createdAt), \($0.createdAt))
                """
            },
            suffix: "ON CONFLICT (tenant_id, assignment_id, kind) DO NOTHING"
        )
    }

    func deviceCommands() async throws -> [DeviceCommand] {
        try await exec(
            """
            SELECT command_id, serial, kind, adam_id, assignment_id, created_at FROM device_commands
            WHERE tenant_id = \(tenantID) ORDER BY created_at, serial
            """
        ).map { row in
            let stored: String = try row.decode("kind")
            guard let kind = DeviceCommand.Kind(rawValue: stored) else {
                throw StoreError.unreadable("device command \(stored)")
            }
            return DeviceCommand(
                id: try row.decode("command_id"),
                serialNumber: try row.decode("serial"),
                kind: kind,
                adamID: try row.decode("adam_id"),
                assignmentID: try row.decode("assignment_id"),
                createdAt: try row.decode("created_at")
            )
        }
    }

    static let commandColumns: SQLQuery = """
        command_id, serial, kind, adam_id, assignment_id, created_at, state, attempts, next_attempt_at, last_error,
        delivered_at, updated_at, enrollment_id
        """

    static func commandRecord(_ row: SQLRow) throws -> DeviceCommandRecord {
        let storedKind: String = try row.decode("kind")
        let storedState: String = try row.decode("state")
        guard let kind = DeviceCommand.Kind(rawValue: storedKind) else {
            throw StoreError.unreadable("device command kind \(storedKind)")
        }
        guard let state = DeviceCommandState(rawValue: storedState) else {
            throw StoreError.unreadable("device command state \(storedState)")
        }
        let command = DeviceCommand(
            id: try row.decode("command_id"),
            serialNumber: try row.decode("serial"),
            kind: kind,
            adamID: try row.decode("adam_id"),
            assignmentID: try row.decode("assignment_id"),
            createdAt: try row.decode("created_at")
        )
        return DeviceCommandRecord(
            command: command,
            state: state,
            attempts: try row.decode("attempts"),
            nextAttemptAt: try row.decode("next_attempt_at"),
            lastError: try row.decode("last_error"),
            deliveredAt: try row.decode("delivered_at"),
            updatedAt: try row.decode("updated_at"),
            enrollmentID: try row.decode("enrollment_id")
        )
    }

    func claimDueDeviceCommands(
        owner: String,
        now: Date,
        lease: TimeInterval,
        limit: Int
    ) async throws -> [DeviceCommandRecord] {
        // Two statements in one transaction: the rows picked are locked (PostgreSQL) until it ends, and a LIMIT
        // inside `IN (…)` is not guaranteed to be evaluated once by PostgreSQL's planner.
        let picked: [UUID] = try await exec(
            """
            SELECT command_id FROM device_commands
            WHERE tenant_id = \(tenantID) AND state = 'queued' AND next_attempt_at <= \(now)
                AND (lease_until IS NULL OR lease_until < \(now))
            ORDER BY created_at, command_id LIMIT \(limit) \(unescaped: dialect.skipLocked)
            """
        ).map { try $0.decode("command_id") }
        guard !picked.isEmpty else { return [] }
        return try await exec(
            """
            UPDATE device_commands SET lease_owner = \(owner), lease_until = \(now.addingTimeInterval(lease)),
                attempts = attempts + 1
            WHERE tenant_id = \(tenantID) AND command_id IN (\(list: picked))
            RETURNING \(fragment: Self.commandColumns)
            """
        ).map(Self.commandRecord).sorted {
            ($0.command.createdAt, $0.command.id.uuidString) < ($1.command.createdAt, $1.command.id.uuidString)
        }
    }

    func finishDelivery(_ id: UUID, owner: String, _ update: DeviceCommandUpdate, at: Date) async throws -> Bool {
        try await !exec(
            """
            UPDATE device_commands
            SET state = \(update.state.rawValue), next_attempt_at = \(update.nextAttemptAt ?? at),
                last_error = \(update.lastError), delivered_at = \(update.deliveredAt),
                enrollment_id = \(update.enrollmentID), updated_at = \(at), lease_owner = NULL, lease_until = NULL
            WHERE tenant_id = \(tenantID) AND command_id = \(id) AND lease_owner = \(owner) AND state = 'queued'
            RETURNING command_id
            """
        ).isEmpty
    }

    func updateDeviceCommand(_ id: UUID, _ update: DeviceCommandUpdate, at: Date) async throws -> Bool {
        var sets: [SQLQuery] = [
            "state = \(update.state.rawValue)", "updated_at = \(at)", "last_error = \(update.lastError)",
        ]
        if let delivered = update.deliveredAt { sets.append("delivered_at = \(delivered)") }
        if let next = update.nextAttemptAt { sets.append("next_attempt_at = \(next)") }
        if let enrollment = update.enrollmentID { sets.append("enrollment_id = \(enrollment)") }
        return try await !exec(
            """
            UPDATE device_commands SET \(fragment: .joined(sets, separator: ", "))
            WHERE tenant_id = \(tenantID) AND command_id = \(id) RETURNING command_id
            """
        ).isEmpty
    }

    func deviceCommandRecords(_ query: DeviceCommandQuery) async throws -> [DeviceCommandRecord] {
        var conditions: [SQLQuery] = ["tenant_id = \(tenantID)"]
        if let serial = query.serialNumber { conditions.append("serial = \(serial)") }
        if let states = query.states, !states.isEmpty {
            conditions.append("state IN (\(list: states.map(\.rawValue).sorted()))")
        }
        if let after = query.after {
            let at = after.createdAtMilliseconds
            conditions.append("(created_at > \(at) OR (created_at = \(at) AND command_id > \(after.id)))")
        }
        return try await exec(
            """
            SELECT \(fragment: Self.commandColumns) FROM device_commands
            WHERE \(fragment: .joined(conditions, separator: " AND ")) ORDER BY created_at, command_id
            LIMIT \(query.limit)
            """
        ).map(Self.commandRecord)
    }

    func deviceCommandRecord(_ id: UUID) async throws -> DeviceCommandRecord? {
        try await exec(
            """
            SELECT \(fragment: Self.commandColumns) FROM device_commands
            WHERE tenant_id = \(tenantID) AND command_id = \(id)
            """
        )
        .first.map(Self.commandRecord)
    }

    func deviceCommandCounts() async throws -> [DeviceCommandState: Int] {
        var counts: [DeviceCommandState: Int] = [:]
        for row in try await exec(
            "SELECT state, count(*) AS n FROM device_commands WHERE tenant_id = \(tenantID) GROUP BY state"
        ) {
            let stored: String = try row.decode("state")
            guard let state = DeviceCommandState(rawValue: stored) else {
                throw StoreError.unreadable("device command state \(stored)")
            }
            counts[state] = try row.decode("n")
        }
        return counts
    }
}
