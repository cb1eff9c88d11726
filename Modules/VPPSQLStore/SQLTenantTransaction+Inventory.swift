import Foundation
import VPPDomain
import VPPUseCases

extension SQLTenantTransaction {
    func upsertDevices(_ devices: [Device]) async throws {
        let rows: [[SQLValue]] = devices.map { device in
            [
                tenant, .text(device.serialNumber.value), .optional(device.name),
                JSONList.encode(device.installedAdamIDs.sorted()), .bool(device.isRetired),
            ]
        }
        try await insertMany(
            "INSERT INTO devices (tenant_id, serial, name, installed, retired)", columns: 5, rows: rows,
            suffix: """
                ON CONFLICT (tenant_id, serial) DO UPDATE SET name = excluded.name, installed = excluded.installed, retired = excluded.retired
                """)
    }

    private func device(from row: SQLRow) throws -> Device? {
        guard let serial = try? SerialNumber(try row.text(0)) else { return nil }
        return Device(
            tenantID: tenantID, serialNumber: serial, name: try row.optionalText(1),
            installedAdamIDs: Set(JSONList.decode(try row.optionalText(2))), isRetired: try row.bool(3))
    }

    // With their MDM enrollment (SQLStore+MDM.swift reads the columns migration 0008 added).
    func devices() async throws -> [Device] { try await mdmDevices() }

    func device(_ serial: SerialNumber) async throws -> Device? { try await mdmDevice(serial: serial) }

    func upsertUsers(_ users: [ManagedUser]) async throws {
        let rows: [[SQLValue]] = users.map {
            [tenant, .text($0.clientUserID.value), .optional($0.email), .text($0.status.rawValue)]
        }
        try await insertMany(
            "INSERT INTO managed_users (tenant_id, client_user_id, email, status)", columns: 4, rows: rows,
            suffix: """
                ON CONFLICT (tenant_id, client_user_id) DO UPDATE SET email = excluded.email, status = excluded.status
                """)
    }

    func users() async throws -> [ManagedUser] {
        try await exec(
            "SELECT client_user_id, email, status FROM managed_users WHERE tenant_id = ? ORDER BY client_user_id",
            [tenant]
        )
        .compactMap { row in
            guard let id = try? ClientUserID(try row.text(0)) else { return nil }
            return try? ManagedUser(
                tenantID: tenantID, clientUserID: id, email: try row.optionalText(1),
                status: ManagedUserStatus(rawValue: try row.text(2)) ?? .registered)
        }
    }
}
