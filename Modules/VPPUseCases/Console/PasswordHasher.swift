import Foundation

/// A slow, salted password hash (bcrypt in production). Implementations run the work off the caller's
/// executor: a hash takes a quarter of a second of CPU by design.
public protocol PasswordHasher: Sendable {
    func hash(_ password: String) async throws -> String
    func verify(_ password: String, hash: String) async -> Bool
}
