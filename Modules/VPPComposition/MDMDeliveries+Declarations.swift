import AsyncHTTPClient
import Foundation
import VPPKMFDDM
import VPPMDMWebhook
import VPPUseCases

extension MDMDeliveries: DeclarationPublisherFactory {
    /// The tenant's DDM server behind the outbound policy, like its MDM server: the URL and the addresses its host
    /// resolves to are checked, the client is pinned to a checked address and shut down after the batch.
    public func withPublisher(
        _ kind: DeclarationPublisherKind,
        url: String,
        apiKey: String,
        _ body: @Sendable (any DeclarationPublisher) async throws -> DeliverDeclarationSetChanges.Outcome
    ) async throws -> DeliverDeclarationSetChanges.Outcome {
        switch kind {
        case .off, .pull:
            return DeliverDeclarationSetChanges.Outcome()
        case .kmfddm, .webhook:
            switch await OutboundGuard.client(for: url, policy: policy) {
            case .failure(let refused):
                throw MDMError.refusedURL(url, refused.description)
            case .success(let client):
                do {
                    let publisher: any DeclarationPublisher =
                        kind == .kmfddm
                        ? KMFDDMPublisher(url: url, apiKey: apiKey, client: client)
                        : try StandardWebhookPublisher(url: url, secret: apiKey, client: client)
                    let outcome = try await body(publisher)
                    try? await client.shutdown()
                    return outcome
                } catch {
                    try? await client.shutdown()
                    throw error
                }
            }
        }
    }
}

extension MDMDeliveries: DeclarationStatusReaderFactory {
    /// KMFDDM's status API behind the outbound policy, as its publisher: the client is pinned to a checked address
    /// and shut down after the batch.
    public func withStatusReader(
        url: String,
        apiKey: String,
        _ body: @Sendable (any DeclarationStatusReader) async throws -> PollDeclarationStatus.Outcome
    ) async throws -> PollDeclarationStatus.Outcome {
        switch await OutboundGuard.client(for: url, policy: policy) {
        case .failure(let refused):
            throw MDMError.refusedURL(url, refused.description)
        case .success(let client):
            do {
                let outcome = try await body(KMFDDMStatusReader(url: url, apiKey: apiKey, client: client))
                try? await client.shutdown()
                return outcome
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }
}
