import Foundation
import VPPDomain

/// The key given to this server cannot open the deployment's secrets.
public struct WrongEncryptionKey: Error, Hashable, Sendable, CustomStringConvertible {
    public let storedKeyID: String

    public var description: String {
        "The encryption key does not open this database's secrets (they were sealed with key \(storedKeyID)). "
            + "Set VPP_ENCRYPTION_KEY (or _FILE) to the deployment's key; during a rotation, give the old key as "
            + "VPP_ENCRYPTION_KEY_PREVIOUS (or _FILE)."
    }
}

/// Proves at start that this server's key opens the deployment's secrets: a known value sealed under the key
/// is stored with the data at first start; every later start must open it. `rotate` re-encrypts every
/// stored secret under the current key (the previous key still opens the old ones meanwhile).
public struct EncryptionKeyCheck: Sendable {
    let store: any Store
    let secrets: any SecretBox
    let clock: any Clock

    /// The plaintext of the check value; not a secret (it only proves the key).
    static let plaintext = "vpp encryption key check v1"

    public init(store: any Store, secrets: any SecretBox, clock: any Clock) {
        self.store = store
        self.secrets = secrets
        self.clock = clock
    }

    /// Stores the check value on a fresh database, then requires that it opens.
    public func verify() async throws {
        var sealed = try await store.encryptionKeyCheck()
        if sealed == nil {
            // A database from before the check value: the key must open what is already stored first.
            if let existing = try await store.sampleSealedSecret() {
                do { _ = try secrets.open(existing) } catch { throw WrongEncryptionKey(storedKeyID: existing.keyID) }
            }
            sealed = try await store.storeEncryptionKeyCheck(
                try secrets.seal(Self.plaintext),
                replace: false,
                at: clock.now()
            )
        }
        guard let sealed else { return }
        let opened: String
        do { opened = try secrets.open(sealed) } catch { throw WrongEncryptionKey(storedKeyID: sealed.keyID) }
        guard opened == Self.plaintext else { throw WrongEncryptionKey(storedKeyID: sealed.keyID) }
    }

    /// What a rotation did.
    public struct Rotation: Sendable, Hashable {
        public var keyID: String
        /// Re-encrypted secrets per `table.column`.
        public var resealed: [String: Int]
    }

    /// Re-encrypts every stored secret under the current key, then the check value: afterwards the
    /// previous key is no longer needed. Safe to run again (already current values are skipped).
    public func rotate() async throws -> Rotation {
        try await verify()
        let current = try secrets.seal("").keyID
        var result = Rotation(keyID: current, resealed: [:])
        let secrets = self.secrets
        for column in store.sealedSecretColumns {
            result.resealed["\(column.table).\(column.secretColumn)"] = try await store.resealSecrets(
                in: column,
                currentKeyID: current
            ) {
                try secrets.seal(try secrets.open($0))
            }
        }
        _ = try await store.storeEncryptionKeyCheck(try secrets.seal(Self.plaintext), replace: true, at: clock.now())
        return result
    }
}
