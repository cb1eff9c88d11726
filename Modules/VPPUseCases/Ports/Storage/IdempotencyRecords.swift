import Foundation

/// The first answer given to a write sent with an `Idempotency-Key`, replayed to every retry with that key.
public struct IdempotentAnswer: Hashable, Sendable {
    public var status: Int
    public var contentType: String?
    public var body: [UInt8]

    public init(status: Int, contentType: String?, body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }
}

/// What a tenant's key says about a request presented with it.
public enum IdempotencyClaim: Hashable, Sendable {
    /// First time (or the key expired, or its earlier request ended without an answer): carry it out.
    case claimed
    /// This request was answered before: give the same answer.
    case replay(IdempotentAnswer)
    /// The key was used for a different request (another method, path or body).
    case mismatch
    /// A request with this key is being carried out right now (its claim has not expired).
    case inProgress
    /// The request with this key changed data (its write committed) but its answer was never kept: the server
    /// stopped, or the database went away, in between. It is not carried out again.
    case outcomeLost
}

/// Idempotency keys, per tenant: a key is claimed for one request (by the fingerprint of its method, path,
/// query and body), holds that request's first answer for a day, and is then forgotten.
public protocol IdempotencyRecords: Sendable {
    /// Claims `key` for the request `fingerprint` until `claimedUntil`, keeping it until `expiresAt`; or says
    /// why not. An expired key, or an unanswered claim past its `claimedUntil`, is claimed afresh.
    func claimIdempotencyKey(
        _ key: String,
        fingerprint: String,
        now: Date,
        claimedUntil: Date,
        expiresAt: Date
    ) async throws -> IdempotencyClaim
    /// Records the answer of the request holding the claim on `key`.
    func recordIdempotentAnswer(_ key: String, fingerprint: String, answer: IdempotentAnswer) async throws
    /// Gives up an unanswered claim: a retry runs the request again if it changed nothing, and learns that the
    /// outcome was lost if one of its writes committed (the claim then ends at `now`).
    func releaseIdempotencyKey(_ key: String, fingerprint: String, now: Date) async throws
    /// Marks the claim on `key` carried out, in this unit of work: for a write made on the request's behalf by
    /// another's unit (a shared reservation batch). A unit that writes under ``IdempotentRequest/current`` is
    /// marked by the store itself.
    func markIdempotentWrite(_ key: String, fingerprint: String) async throws
    /// Forgets up to `limit` keys that expired before `now`; returns how many.
    func purgeIdempotencyKeys(now: Date, limit: Int) async throws -> Int
}
