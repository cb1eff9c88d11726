import Foundation

/// Something an admin may do.
public enum Permission: String, Hashable, Sendable, Codable, CaseIterable {
    /// See tokens, apps, licences, devices, users, reports and the audit log.
    case read
    /// Assign and revoke licences; add devices and users.
    case manageLicences
    /// Upload, renew, remove and take over content tokens ("Application Management Full Control").
    case manageContentTokens
    /// Create API keys and admins for the tenant.
    case manageTenant
}

/// A named bundle of permissions, matching the roles MDM products ship.
public enum Role: String, Hashable, Sendable, Codable, CaseIterable {
    /// "MDM Admin": everything, including the tenant's keys.
    case mdmAdmin = "mdm-admin"
    /// "Application Management Full Control": tokens, apps and licences, not the tenant's keys.
    case applicationManagementFullControl = "app-management"
    /// Read-only.
    case readOnly = "read-only"

    /// The product's name for the role, as admins see it.
    public var displayName: String {
        switch self {
        case .mdmAdmin: "MDM Admin"
        case .applicationManagementFullControl: "Application Management Full Control"
        case .readOnly: "Read-only"
        }
    }

    public var permissions: Set<Permission> {
        switch self {
        case .mdmAdmin: Set(Permission.allCases)
        case .applicationManagementFullControl: [.read, .manageLicences, .manageContentTokens]
        case .readOnly: [.read]
        }
    }
}

/// A person or API key acting for one tenant.
public struct Admin: Hashable, Sendable, Codable {
    public let id: AdminID
    public let tenantID: TenantID
    public var name: String
    public var role: Role

    public init(id: AdminID = AdminID(), tenantID: TenantID, name: String, role: Role) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.role = role
    }

    public func can(_ permission: Permission) -> Bool { role.permissions.contains(permission) }

    /// Throws when the admin lacks `permission`; the error names the admin, the role and the permission.
    public func require(_ permission: Permission) throws(AccessDenied) {
        guard can(permission) else { throw AccessDenied(admin: name, role: role, missing: permission) }
    }
}

/// The caller's role does not grant what was asked.
public struct AccessDenied: Error, Hashable, Sendable, CustomStringConvertible {
    public let admin: String
    public let role: Role
    public let missing: Permission

    public var description: String {
        let needed = missing == .manageContentTokens ? "Application Management Full Control" : missing.rawValue
        return "\(admin) (role \(role.displayName)) lacks the \"\(needed)\" permission."
    }
}
