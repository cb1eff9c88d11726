import Foundation

/// Why a secret could not be opened.
public enum SecretBoxError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The secret was sealed with a key this server does not have.
    case unknownKey(keyID: String)
    /// The key id matches but the ciphertext does not open: wrong key material or tampering.
    case cannotOpen(keyID: String)
    case badKey(String)

    public var description: String {
        switch self {
        case .unknownKey(let id):
            "The stored secret was encrypted with key \(id), which this server does not have. "
                + "Set VPP_ENCRYPTION_KEY (or _FILE) to that key."
        case .cannotOpen(let id):
            "The stored secret does not decrypt with key \(id): the encryption key is wrong or the data was altered."
        case .badKey(let detail): "The encryption key is unusable: \(detail)"
        }
    }
}

/// Encrypts secrets at rest (content tokens); each sealed value names the key that sealed it, so keys can rotate.
public protocol SecretBox: Sendable {
    func seal(_ plaintext: String) throws -> SealedSecret
    func open(_ sealed: SealedSecret) throws -> String
}
