import Foundation
import VPPDomain

/// `Idempotency-Key` for the API's writes, the way payment APIs do it: the first request with a key is carried
/// out and its answer kept for a day; a retry with the same key and the same request gets that answer again
/// without being carried out twice; the same key with a different request is refused.
///
/// A key belongs to the caller's tenant (two tenants' keys never meet). Only final answers are kept: a request
/// that failed for want of the database (or any 5xx) releases its claim, so its retry runs again — unless one of
/// its writes had committed (``IdempotentRequest`` marks the claim in the write's own transaction): then, as after
/// a server that died between its commit and keeping the answer, a retry gets ``IdempotencyClaim/outcomeLost``
/// rather than a second write.
public struct IdempotentWrites: Sendable {
    let store: any Store
    let clock: any Clock

    /// How long an answer is kept for retries.
    public static let keepFor: TimeInterval = 24 * 3600

    public init(store: any Store, clock: any Clock) {
        self.store = store
        self.clock = clock
    }

    /// Claims `key` for the request `fingerprint` (method, path, query and a digest of the body). The claim
    /// lasts `claimFor` seconds: a request that dies without an answer frees its key for a retry after that.
    public func claim(
        _ caller: Caller,
        key: String,
        fingerprint: String,
        claimFor: TimeInterval
    ) async throws -> IdempotencyClaim {
        let now = clock.now()
        return try await store.inTenant(caller.tenantID) { tx in
            try await tx.claimIdempotencyKey(
                key,
                fingerprint: fingerprint,
                now: now,
                claimedUntil: now.addingTimeInterval(claimFor),
                expiresAt: now.addingTimeInterval(Self.keepFor)
            )
        }
    }

    /// Keeps `answer` for the retries of the request holding `key`, and forgets a few expired keys of the
    /// tenant on the way (bounded, so no sweep ever reads the whole table).
    public func record(_ caller: Caller, key: String, fingerprint: String, answer: IdempotentAnswer) async throws {
        let now = clock.now()
        try await store.inTenant(caller.tenantID) { tx in
            try await tx.recordIdempotentAnswer(key, fingerprint: fingerprint, answer: answer)
            _ = try await tx.purgeIdempotencyKeys(now: now, limit: 100)
        }
    }

    /// Frees `key` after a request that failed (a 5xx): a retry runs it again unless one of its writes committed.
    public func release(_ caller: Caller, key: String, fingerprint: String) async throws {
        let now = clock.now()
        try await store.inTenant(caller.tenantID) { tx in
            try await tx.releaseIdempotencyKey(key, fingerprint: fingerprint, now: now)
        }
    }
}
