import Foundation

/// Apple's view of a managed user's registration.
public enum ManagedUserStatus: String, Hashable, Sendable, Codable {
    case registered = "Registered"
    case associated = "Associated"
    case retired = "Retired"
}

/// A user that can hold user-based licences.
public struct ManagedUser: Hashable, Sendable, Codable {
    public let tenantID: TenantID
    public let clientUserID: ClientUserID
    public var email: String?
    public var status: ManagedUserStatus

    public init(
        tenantID: TenantID,
        clientUserID: ClientUserID,
        email: String? = nil,
        status: ManagedUserStatus = .registered
    ) throws(IdentifierError) {
        if let email, !Self.looksLikeEmail(email) { throw .invalidEmail(email) }
        self.tenantID = tenantID
        self.clientUserID = clientUserID
        self.email = email
        self.status = status
    }

    /// Whether new licences may be assigned to this user.
    public var canReceiveLicences: Bool { status != .retired }

    /// A deliberately loose check (one `@`, a dot in the domain, no spaces): Apple validates the rest (9717).
    public static func looksLikeEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            !text.contains(where: \.isWhitespace)
        else { return false }
        return true
    }
}
