import Foundation
import Testing
import VPPDomain
import VPPSQLStore
import VPPSecrets
import VPPTestSupport
import VPPUseCases

@Suite("Secrets at rest")
struct SecretsAtRestTests {
    static let plaintext = "eyJ0b2tlbiI6IlZGZHdRbVZWTVZSUldGSktUVVJyTUE9PSIsImV4cERhdGUiOiIyMDI3LTExLTI1In0="

    @Test(
        "rows hold no plaintext secret: the raw column is AES-GCM ciphertext that opens with the key",
        arguments: StoreKind.allCases
    )
    func noPlaintextInRows(kind: StoreKind) async throws {
        let box = try AESGCMSecretBox(key: Array(repeating: 7, count: 32))
        try await withStore(kind) { sut in
            let tenant = makeTenant("Acme")
            try await sut.store.createTenant(tenant)
            let token = makeToken(tenant.id)
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                try await tx.insertToken(token, secret: try box.seal(Self.plaintext))
            }
            let raw = try await sut.raw("SELECT secret, secret_key_id FROM tokens")
            let bytes = try raw[0].decode("secret", as: [UInt8].self)
            #expect(!String(decoding: bytes, as: UTF8.self).contains(Self.plaintext.prefix(12)))
            #expect(!bytes.isEmpty && bytes.count >= Self.plaintext.utf8.count + 28, "nonce + ciphertext + tag")
            #expect(try raw[0].decode("secret_key_id", as: String.self) == box.currentKeyID)
            let everything = try await sut.raw("SELECT * FROM tokens").flatMap(\.values).map { "\($0)" }.joined()
            #expect(!everything.contains(Self.plaintext))
            let sealed = try #require(
                try await sut.store.inTenant(tenant.id) { (tx) async throws in try await tx.tokenSecret(token.id) }
            )
            #expect(try box.open(sealed) == Self.plaintext)
        }
    }

    @Test("a wrong key gives a clear error, never garbage; rotation keeps old secrets readable")
    func wrongKey() throws {
        let right = try AESGCMSecretBox(key: Array(repeating: 1, count: 32))
        let sealed = try right.seal(Self.plaintext)
        let stranger = try AESGCMSecretBox(key: Array(repeating: 2, count: 32))
        #expect(throws: SecretBoxError.unknownKey(keyID: right.currentKeyID)) { try stranger.open(sealed) }
        var tampered = sealed.ciphertext
        tampered[tampered.count - 1] ^= 0xFF
        #expect(throws: SecretBoxError.cannotOpen(keyID: right.currentKeyID)) {
            try right.open(SealedSecret(keyID: sealed.keyID, ciphertext: tampered))
        }
        let rotated = try AESGCMSecretBox(
            key: Array(repeating: 3, count: 32),
            previousKeys: [Array(repeating: 1, count: 32)]
        )
        #expect(try rotated.open(sealed) == Self.plaintext)
        #expect(try rotated.seal("x").keyID != sealed.keyID)
        #expect(throws: SecretBoxError.self) { try AESGCMSecretBox(key: [1, 2, 3]) }
        #expect(throws: SecretBoxError.self) { try AESGCMSecretBox(base64Key: "not base64!") }
        #expect(!SecretBoxError.unknownKey(keyID: "ab").description.isEmpty)
    }

    @Test("the embedded default creates a 0600 key file once and reads the same key back")
    func keyFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vpp-key-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("encryption.key").path
        let first = try EncryptionKeyFile.loadOrCreate(at: path)
        #expect(first.created && first.key.count == 32)
        let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        let second = try EncryptionKeyFile.loadOrCreate(at: path)
        #expect(!second.created && second.key == first.key)
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: SecretBoxError.self) { try EncryptionKeyFile.load(at: path) }
    }
}
