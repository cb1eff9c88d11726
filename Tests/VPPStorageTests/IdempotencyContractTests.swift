import Foundation
import Testing
import VPPDomain
import VPPSQLStore
import VPPTestSupport
import VPPUseCases

/// Idempotency keys: claimed once per tenant, holding the first answer for a day; another request under the
/// same key is told apart, an abandoned or expired claim is claimed afresh.
@Suite("Storage contract: idempotency keys (PostgreSQL and SQLite, same tests)")
struct IdempotencyContractTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func claim(
        _ tx: any TenantTransaction,
        _ key: String,
        _ fingerprint: String,
        at now: Date = now
    ) async throws -> IdempotencyClaim {
        try await tx.claimIdempotencyKey(
            key,
            fingerprint: fingerprint,
            now: now,
            claimedUntil: now.addingTimeInterval(120),
            expiresAt: now.addingTimeInterval(24 * 3600)
        )
    }

    @Test(
        "a key is claimed once, replays its first answer, refuses another request, and is per tenant",
        arguments: StoreKind.allCases
    )
    func claimAndReplay(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, _) = try await seedTenant(sut.store)
            let (other, _) = try await seedTenant(sut.store, name: "Other")
            let answer = IdempotentAnswer(status: 202, contentType: "application/json", body: Array(#"{"a":1}"#.utf8))
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                #expect(try await Self.claim(tx, "k1", "f1") == .claimed)
                #expect(try await Self.claim(tx, "k1", "f1") == .inProgress, "claimed, not yet answered")
                #expect(try await Self.claim(tx, "k1", "f2") == .mismatch)
                try await tx.recordIdempotentAnswer("k1", fingerprint: "f1", answer: answer)
                #expect(try await Self.claim(tx, "k1", "f1") == .replay(answer))
                #expect(try await Self.claim(tx, "k1", "f2") == .mismatch)
                // Recording again never overwrites the first answer.
                try await tx.recordIdempotentAnswer(
                    "k1",
                    fingerprint: "f1",
                    answer: IdempotentAnswer(status: 409, contentType: nil, body: [])
                )
                #expect(try await Self.claim(tx, "k1", "f1") == .replay(answer))
            }
            try await sut.store.inTenant(other.id) { (tx) async throws in
                #expect(try await Self.claim(tx, "k1", "f2") == .claimed, "another tenant's key never meets this one")
            }
        }
    }

    @Test(
        "a released or abandoned claim is claimed again; an expired key is forgotten and purged",
        arguments: StoreKind.allCases
    )
    func releaseExpireAndPurge(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, _) = try await seedTenant(sut.store)
            let answer = IdempotentAnswer(status: 201, contentType: nil, body: [1, 2, 3])
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                #expect(try await Self.claim(tx, "released", "f") == .claimed)
                try await tx.releaseIdempotencyKey("released", fingerprint: "f", now: Self.now)
                #expect(try await Self.claim(tx, "released", "f") == .claimed)

                #expect(try await Self.claim(tx, "abandoned", "f") == .claimed)
                #expect(try await Self.claim(tx, "abandoned", "f", at: Self.now.addingTimeInterval(60)) == .inProgress)
                #expect(try await Self.claim(tx, "abandoned", "f", at: Self.now.addingTimeInterval(121)) == .claimed)
                // An abandoned claim is no licence to reuse the key for another request.
                #expect(try await Self.claim(tx, "abandoned", "g", at: Self.now.addingTimeInterval(300)) == .mismatch)

                #expect(try await Self.claim(tx, "answered", "f") == .claimed)
                try await tx.recordIdempotentAnswer("answered", fingerprint: "f", answer: answer)
                let tomorrow = Self.now.addingTimeInterval(24 * 3600 + 1)
                #expect(try await Self.claim(tx, "answered", "g", at: tomorrow) == .claimed, "expired: a new key")
                #expect(try await tx.purgeIdempotencyKeys(now: tomorrow, limit: 100) == 1, "\"released\" only")
                #expect(try await tx.purgeIdempotencyKeys(now: tomorrow, limit: 100) == 0)
                #expect(try await Self.claim(tx, "answered", "g", at: tomorrow) == .inProgress, "the new claim stays")
            }
        }
    }

    @Test(
        "a write under an idempotent request marks its claim carried out; a read or a rollback does not",
        arguments: StoreKind.allCases
    )
    func carriedOut(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, _) = try await seedTenant(sut.store)
            for key in ["reads", "writes", "rolls back"] {
                _ = try await sut.store.inTenant(tenant.id) { tx in try await Self.claim(tx, key, "f") }
            }
            let request: @Sendable (String) -> IdempotentRequest = {
                IdempotentRequest(tenantID: tenant.id, key: $0, fingerprint: "f")
            }
            try await IdempotentRequest.$current.withValue(request("reads")) {
                _ = try await sut.store.inTenant(tenant.id) { tx in try await tx.devices() }
            }
            try await IdempotentRequest.$current.withValue(request("writes")) {
                try await sut.store.inTenant(tenant.id) { tx in
                    try await tx.upsertDevices([
                        Device(tenantID: tenant.id, serialNumber: try SerialNumber("C02IDEM0001"))
                    ])
                }
            }
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await IdempotentRequest.$current.withValue(request("rolls back")) {
                    try await sut.store.inTenant(tenant.id) { tx in
                        try await tx.upsertDevices([
                            Device(tenantID: tenant.id, serialNumber: try SerialNumber("C02IDEM0002"))
                        ])
                        throw Abort()
                    }
                }
            }
            let later = Self.now.addingTimeInterval(121)
            try await sut.store.inTenant(tenant.id) { tx in
                #expect(try await Self.claim(tx, "reads", "f", at: later) == .claimed, "a read changed nothing")
                #expect(try await Self.claim(tx, "writes", "f", at: later) == .outcomeLost)
                #expect(try await Self.claim(tx, "writes", "f", at: Self.now) == .inProgress, "until its claim ends")
                #expect(try await Self.claim(tx, "rolls back", "f", at: later) == .claimed, "the mark rolled back")
                try await tx.releaseIdempotencyKey("writes", fingerprint: "f", now: Self.now)
            }
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                #expect(try await Self.claim(tx, "writes", "f", at: Self.now) == .outcomeLost, "released: lost at once")
            }
        }
    }
}
