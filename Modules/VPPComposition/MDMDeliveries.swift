import AsyncHTTPClient
import Foundation
import VPPDomain
import VPPMDMWebhook
import VPPMicroMDM
import VPPNanoMDM
import VPPUseCases

/// Picks the delivery adapter for a tenant's MDM connection, behind the outbound policy: every batch first
/// checks the connection's URL and the addresses its host resolves to (``OutboundGuard``), then delivers over a
/// client pinned to a checked address.
public struct MDMDeliveries: DeviceCommandDeliveryFactory {
    let policy: OutboundPolicy

    public init(policy: OutboundPolicy) { self.policy = policy }

    public func delivery(for connection: MDMConnection, credentials: MDMCredentials) throws -> any DeviceCommandDelivery
    {
        switch connection.kind {
        case .nanomdm:
            guard let key = credentials.apiKey else { throw MDMError.missingAPIKey(.nanomdm) }
            return Guarded(url: connection.url, policy: policy) {
                NanoMDMDelivery(url: connection.url, apiKey: key, client: $0)
            }
        case .micromdm:
            guard let key = credentials.apiKey else { throw MDMError.missingAPIKey(.micromdm) }
            return Guarded(url: connection.url, policy: policy) {
                MicroMDMDelivery(url: connection.url, apiKey: key, client: $0)
            }
        case .webhook:
            guard let secret = credentials.signingSecret else {
                throw MDMError.badSecret("no webhook signing secret; reconnect")
            }
            _ = try StandardWebhookDelivery(url: connection.url, secret: secret)  // a bad secret throws here
            return Guarded(url: connection.url, policy: policy) {
                try StandardWebhookDelivery(url: connection.url, secret: secret, client: $0)
            }
        case .pull:
            return NothingToPush()
        }
    }

    /// One batch: the guard's client, the adapter over it, the client shut down after.
    struct Guarded: DeviceCommandDelivery {
        let url: String
        let policy: OutboundPolicy
        let make: @Sendable (HTTPClient) throws -> any DeviceCommandDelivery

        func deliver(_ commands: [OutgoingDeviceCommand]) async -> [UUID: DeliveryOutcome] {
            switch await OutboundGuard.client(for: url, policy: policy) {
            case .failure(let refused):
                // Retried, not failed: once the operator allows the host or the admin fixes the URL, they go out.
                return Dictionary(uniqueKeysWithValues: commands.map { ($0.id, .retry(refused.description)) })
            case .success(let client):
                let outcomes: [UUID: DeliveryOutcome]
                do {
                    outcomes = try await make(client).deliver(commands)
                } catch {
                    outcomes = Dictionary(uniqueKeysWithValues: commands.map { ($0.id, .refused("\(error)")) })
                }
                try? await client.shutdown()
                return outcomes
            }
        }
    }

    /// The pull kind: the MDM fetches commands itself, so delivery never runs for it.
    struct NothingToPush: DeviceCommandDelivery {
        func deliver(_ commands: [OutgoingDeviceCommand]) async -> [UUID: DeliveryOutcome] {
            Dictionary(uniqueKeysWithValues: commands.map { ($0.id, .retry("the MDM pulls its commands")) })
        }
    }
}
