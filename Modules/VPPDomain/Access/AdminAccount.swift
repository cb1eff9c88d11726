import Foundation

/// A console admin's sign-in name: 1–64 characters of letters, digits and `. _ @ -`, compared case-insensitively
/// (stored lower-case), so "Alice" and "alice" are one account and no look-alike spacing slips in.
public struct Username: Hashable, Sendable, Codable, CustomStringConvertible {
    public let value: String

    /// Validates and normalises `text`; the error says what is wrong.
    public init(_ text: String) throws(AdminAccountError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw .badUsername("The username is empty.") }
        guard trimmed.count <= 64 else { throw .badUsername("The username is longer than 64 characters.") }
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-")
        guard trimmed.unicodeScalars.allSatisfy(allowed.contains) else {
            throw .badUsername("The username \"\(trimmed)\" may contain only letters, digits and . _ @ -")
        }
        value = trimmed.lowercased()
    }

    public var description: String { value }
}

/// A named person who signs in to the web console for one tenant, with a role.
/// The password is kept only as a slow hash (bcrypt); the hash never leaves the storage and sign-in code.
public struct AdminAccount: Hashable, Sendable {
    public let id: AdminID
    public let tenantID: TenantID
    public let username: Username
    public var role: Role
    /// The slow hash of the password (bcrypt's modular crypt format).
    public var passwordHash: String
    public let createdAt: Date

    public init(
        id: AdminID = AdminID(),
        tenantID: TenantID,
        username: Username,
        role: Role,
        passwordHash: String,
        createdAt: Date
    ) {
        self.id = id
        self.tenantID = tenantID
        self.username = username
        self.role = role
        self.passwordHash = passwordHash
        self.createdAt = createdAt
    }

    /// The admin this account acts as: audits carry the username.
    public var admin: Admin { Admin(id: id, tenantID: tenantID, name: username.value, role: role) }

    /// The shortest password accepted: long enough that a stolen hash resists guessing at bcrypt's cost.
    public static let minimumPasswordLength = 12

    /// Checks a new password; the error says what is wrong without echoing the password.
    public static func checkPassword(_ password: String) throws(AdminAccountError) {
        guard password.count >= minimumPasswordLength else {
            throw .weakPassword("The password must be at least \(minimumPasswordLength) characters long.")
        }
        // bcrypt reads only the first 72 bytes: a longer password would silently be cut.
        guard password.utf8.count <= 72 else {
            throw .weakPassword("The password must be at most 72 bytes long (bcrypt's limit).")
        }
    }
}

/// Bad input for an admin account.
public enum AdminAccountError: Error, Hashable, Sendable, CustomStringConvertible {
    case badUsername(String)
    case weakPassword(String)
    case duplicateUsername(String)

    public var description: String {
        switch self {
        case .badUsername(let message), .weakPassword(let message): message
        case .duplicateUsername(let name): "An admin named \"\(name)\" already exists in this tenant."
        }
    }
}
