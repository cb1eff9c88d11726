import Foundation
import VPPDomain

/// The declarative delivery port: a DDM server (KMFDDM, NanoHUB) that stores declarations, groups them in sets
/// and gives each enrollment the declarations of its sets. Every call is idempotent at the server, so a change
/// retried after a lost answer, or carried out by two servers, has one effect.
public protocol DeclarationPublisher: Sendable {
    /// Stores (or replaces) a declaration document and puts it in the set `set`.
    func publish(_ document: Data, identifier: String, set: String) async -> DeliveryOutcome
    /// Puts an enrollment in the set (`member` true) or takes it out.
    func setMembership(enrollmentID: String, set: String, member: Bool) async -> DeliveryOutcome
    /// The same, naming the set change it carries out (a receiver's idempotency key, for publishers that send one).
    func setMembership(enrollmentID: String, set: String, member: Bool, changeID: UUID?) async -> DeliveryOutcome
}

extension DeclarationPublisher {
    /// A DDM server that needs no id of the change (KMFDDM: the request itself is idempotent).
    public func setMembership(
        enrollmentID: String,
        set: String,
        member: Bool,
        changeID: UUID?
    ) async
        -> DeliveryOutcome
    {
        await setMembership(enrollmentID: enrollmentID, set: set, member: member)
    }
}

/// Builds the adapter for a tenant's DDM server (the composition root knows the adapters and the outbound rule).
public protocol DeclarationPublisherFactory: Sendable {
    /// Runs `body` with a publisher for `kind` at `url`; throws when the URL is refused (the changes stay queued).
    func withPublisher(
        _ kind: DeclarationPublisherKind,
        url: String,
        apiKey: String,
        _ body: @Sendable (any DeclarationPublisher) async throws -> DeliverDeclarationSetChanges.Outcome
    ) async throws -> DeliverDeclarationSetChanges.Outcome
}
