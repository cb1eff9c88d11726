import Foundation
import Testing
import VPPDomain
import VPPSQLStore
import VPPSecrets
import VPPTestSupport
import VPPUseCases

@Suite("Encryption key check and rotation")
struct EncryptionKeyCheckTests {
    static let secret = "eyJ0b2tlbiI6IlZGZHdRbVZWTVZSUldGSktUVVJyTUE9PSIsImV4cERhdGUiOiIyMDI3LTExLTI1In0="
    static let old = Array(repeating: UInt8(1), count: 32)
    static let new = Array(repeating: UInt8(2), count: 32)

    @Test(
        "a key that cannot open the stored check value is refused; the previous key is accepted during rotation; rotate re-encrypts",
        arguments: StoreKind.allCases
    )
    func checkAndRotate(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let clock = SystemClock()
            let tenant = makeTenant("Acme")
            try await sut.store.createTenant(tenant)
            let oldBox = try AESGCMSecretBox(key: Self.old)
            let token = makeToken(tenant.id)
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                try await tx.insertToken(token, secret: try oldBox.seal(Self.secret))
                try await tx.setNotificationSecret(token.id, secret: try oldBox.seal("bearer-secret"))
            }
            // A database from before the check value: a wrong key is refused by the stored secrets themselves.
            let wrong = try AESGCMSecretBox(key: Self.new)
            await #expect(throws: WrongEncryptionKey.self) {
                try await EncryptionKeyCheck(store: sut.store, secrets: wrong, clock: clock).verify()
            }
            #expect(try await sut.store.encryptionKeyCheck() == nil, "a refused key stores no check value")

            try await EncryptionKeyCheck(store: sut.store, secrets: oldBox, clock: clock).verify()
            #expect(try await sut.store.encryptionKeyCheck()?.keyID == oldBox.currentKeyID)
            let refused = await #expect(throws: WrongEncryptionKey.self) {
                try await EncryptionKeyCheck(store: sut.store, secrets: wrong, clock: clock).verify()
            }
            #expect(
                refused?.description.contains(oldBox.currentKeyID) == true
                    && refused?.description.contains("VPP_ENCRYPTION_KEY") == true
            )

            // Rotation: new key current, old key previous.
            let rotating = try AESGCMSecretBox(key: Self.new, previousKeys: [Self.old])
            try await EncryptionKeyCheck(store: sut.store, secrets: rotating, clock: clock).verify()
            let rotation = try await EncryptionKeyCheck(store: sut.store, secrets: rotating, clock: clock).rotate()
            #expect(rotation.resealed["tokens.secret"] == 1 && rotation.resealed["tokens.notification_secret"] == 1)
            let again = try await EncryptionKeyCheck(store: sut.store, secrets: rotating, clock: clock).rotate()
            #expect(again.resealed.values.reduce(0, +) == 0, "idempotent")

            // Afterwards the new key alone opens everything; the old key alone is refused.
            let newOnly = try AESGCMSecretBox(key: Self.new)
            try await EncryptionKeyCheck(store: sut.store, secrets: newOnly, clock: clock).verify()
            let sealed = try #require(
                try await sut.store.inTenant(tenant.id) { (tx) async throws in try await tx.tokenSecret(token.id) }
            )
            #expect(try newOnly.open(sealed) == Self.secret)
            let bearer = try #require(
                try await sut.store.inTenant(tenant.id) { (tx) async throws in try await tx.notificationSecret(token.id)
                }
            )
            #expect(try newOnly.open(bearer) == "bearer-secret")
            await #expect(throws: WrongEncryptionKey.self) {
                try await EncryptionKeyCheck(store: sut.store, secrets: oldBox, clock: clock).verify()
            }
        }
    }

    @Test(
        "API key records: creator, last use (written at most once a minute), expiry and revocation",
        arguments: StoreKind.allCases
    )
    func apiKeyRecords(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let tenant = makeTenant("Acme")
            try await sut.store.createTenant(tenant)
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let key = APIKeyDetails(
                tenantID: tenant.id,
                name: "ci",
                role: .readOnly,
                keyHash: "ab12",
                createdBy: "cli:ops",
                createdAt: now,
                expiresAt: now.addingTimeInterval(3600)
            )
            try await sut.store.inTenant(tenant.id) { (tx) async throws in try await tx.insertAPIKeyDetails(key) }
            try await sut.store.touchAPIKey(key.id, at: now.addingTimeInterval(10), unlessWithin: 60)
            try await sut.store.touchAPIKey(key.id, at: now.addingTimeInterval(20), unlessWithin: 60)
            let found = try #require(try await sut.store.apiKeyDetails(hash: "ab12"))
            #expect(
                found.createdBy == "cli:ops" && found.lastUsedAt == now.addingTimeInterval(10)
                    && found.isUsable(at: now)
            )
            #expect(!found.isUsable(at: now.addingTimeInterval(3600)))
            #expect(
                try await sut.store.inTenant(tenant.id) { (tx) async throws in
                    try await tx.revokeAPIKey(key.id, at: now)
                }
            )
            #expect(try await sut.store.apiKeyDetails(hash: "ab12")?.revokedAt == now)
            let other = makeTenant("Other")
            try await sut.store.createTenant(other)
            #expect(
                try await !sut.store.inTenant(other.id) { (tx) async throws in
                    try await tx.revokeAPIKey(key.id, at: now)
                },
                "another tenant cannot revoke it"
            )
        }
    }
}
