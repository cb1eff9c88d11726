import Foundation
import VPPDomain

/// Which MDM enrollment a managed user's declarations go to. A user licence in declaration delivery makes a
/// `License.Assignment: User` declaration that only the user's own enrollment (a User Enrollment, or a Mac's user
/// channel) may evaluate; the MDM webhook says nothing of VPP users, so the MDM (or an admin) names the enrollment
/// here. Until it does, the user's joins wait, visible with the reason.
public struct LinkUserEnrollment: Sendable {
    let store: any Store
    let auditTrail: AuditTrail

    /// Takes only what this use case touches.
    public init(store: any Store, auditTrail: AuditTrail) {
        self.store = store
        self.auditTrail = auditTrail
    }

    /// Links the user to `enrollmentID` (nil: unlinks); audited.
    /// - Throws: ``UseCaseError/unknownUsers(_:)`` when the tenant has no such user (nothing changes).
    public func callAsFunction(_ caller: Caller, _ user: ClientUserID, enrollmentID: EnrollmentID?) async throws {
        try caller.require(.manageLicences)
        try await store.inTenant(caller.tenantID) { tx in
            guard try await tx.setUserEnrollment(user, enrollmentID: enrollmentID?.value) else {
                throw UseCaseError.unknownUsers([user.value])
            }
            try await auditTrail.record(
                tx,
                caller,
                AuditEntry(.userEnrollment, .user(user), .ok, enrollmentID.map { "enrollment \($0.value)" } ?? "none")
            )
        }
    }

    /// The user's enrollment, if linked.
    public func enrollment(_ caller: Caller, _ user: ClientUserID) async throws -> String? {
        try caller.require(.read)
        return try await store.inTenant(caller.tenantID) { tx in
            guard try await !tx.users([user]).isEmpty else { throw UseCaseError.unknownUsers([user.value]) }
            return try await tx.userEnrollments([user])[user]
        }
    }
}
