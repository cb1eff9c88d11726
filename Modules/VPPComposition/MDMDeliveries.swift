import Foundation
import VPPMDMWebhook
import VPPMicroMDM
import VPPNanoMDM
import VPPUseCases

/// Picks the delivery adapter for a tenant's MDM connection.
public struct MDMDeliveries: DeviceCommandDeliveryFactory {
    public init() {}

    public func delivery(for connection: MDMConnection, credentials: MDMCredentials) throws -> any DeviceCommandDelivery
    {
        switch connection.kind {
        case .nanomdm:
            guard let key = credentials.apiKey else { throw MDMError.missingAPIKey(.nanomdm) }
            return NanoMDMDelivery(url: connection.url, apiKey: key)
        case .micromdm:
            guard let key = credentials.apiKey else { throw MDMError.missingAPIKey(.micromdm) }
            return MicroMDMDelivery(url: connection.url, apiKey: key)
        case .webhook:
            guard let secret = credentials.signingSecret else {
                throw MDMError.badSecret("no webhook signing secret; reconnect")
            }
            return try StandardWebhookDelivery(url: connection.url, secret: secret)
        case .pull:
            return NothingToPush()
        }
    }

    /// The pull kind: the MDM fetches commands itself, so delivery never runs for it.
    struct NothingToPush: DeviceCommandDelivery {
        func deliver(_ commands: [OutgoingDeviceCommand]) async -> [UUID: DeliveryOutcome] {
            Dictionary(uniqueKeysWithValues: commands.map { ($0.id, .retry("the MDM pulls its commands")) })
        }
    }
}
