import Crypto
import Foundation
import VPPUseCases

/// Seals secrets with AES-256-GCM (swift-crypto). The key id is the first 8 hex digits of the key's
/// SHA-256, so a sealed value says which key opens it and old keys can be kept for rotation.
public struct AESGCMSecretBox: SecretBox {
    private let current: (id: String, key: SymmetricKey)
    private let byID: [String: SymmetricKey]

    /// - Parameters:
    ///   - key: 32 bytes; seals everything new.
    ///   - previousKeys: older keys still accepted for opening (rotation).
    public init(key: [UInt8], previousKeys: [[UInt8]] = []) throws {
        guard key.count == 32, previousKeys.allSatisfy({ $0.count == 32 }) else {
            throw SecretBoxError.badKey("an encryption key must be exactly 32 bytes (Base64 of 32 random bytes)")
        }
        let all = ([key] + previousKeys).map { (Self.keyID(of: $0), SymmetricKey(data: $0)) }
        current = all[0]
        byID = Dictionary(all, uniquingKeysWith: { first, _ in first })
    }

    /// Parses a Base64 key as given in `VPP_ENCRYPTION_KEY`.
    public init(base64Key: String) throws {
        guard let data = Data(base64Encoded: base64Key.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw SecretBoxError.badKey("VPP_ENCRYPTION_KEY is not Base64")
        }
        try self.init(key: Array(data))
    }

    public static func keyID(of key: [UInt8]) -> String {
        SHA256.hash(data: key).prefix(4).map { String(format: "%02x", $0) }.joined()
    }

    public var currentKeyID: String { current.id }

    public func seal(_ plaintext: String) throws -> SealedSecret {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: current.key)
        guard let combined = box.combined else { throw SecretBoxError.badKey("AES-GCM produced no output") }
        return SealedSecret(keyID: current.id, ciphertext: Array(combined))
    }

    public func open(_ sealed: SealedSecret) throws -> String {
        guard let key = byID[sealed.keyID] else { throw SecretBoxError.unknownKey(keyID: sealed.keyID) }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.ciphertext)
            let plain = try AES.GCM.open(box, using: key)
            guard let text = String(data: plain, encoding: .utf8) else {
                throw SecretBoxError.cannotOpen(keyID: sealed.keyID)
            }
            return text
        } catch let error as SecretBoxError {
            throw error
        } catch {
            throw SecretBoxError.cannotOpen(keyID: sealed.keyID)
        }
    }
}
