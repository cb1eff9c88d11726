import Foundation
import VPPDomain

/// Who is acting, for which tenant: every use case checks the caller's permission itself, not only the edge.
public struct Caller: Sendable, Hashable {
    public let tenantID: TenantID
    public let admin: Admin

    public init(tenantID: TenantID, admin: Admin) {
        self.tenantID = tenantID
        self.admin = admin
    }

    /// The system itself (background workers), with full rights in `tenant`.
    public static func system(_ tenant: TenantID) -> Caller {
        Caller(tenantID: tenant, admin: Admin(tenantID: tenant, name: "vpp (background)", role: .mdmAdmin))
    }

    public func require(_ permission: Permission) throws {
        guard admin.tenantID == tenantID else { throw UseCaseError.unauthorised }
        try admin.require(permission)
    }
}
