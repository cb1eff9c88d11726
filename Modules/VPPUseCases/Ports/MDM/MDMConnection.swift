import Foundation
import VPPDomain

/// How vpp hands device commands to a tenant's MDM server.
public enum MDMKind: String, Hashable, Sendable, CaseIterable, Codable {
    /// NanoMDM, or NanoHUB (recognised by its `/api/v1/nanomdm` URL prefix): `PUT {url}/v1/enqueue/{id}`.
    case nanomdm
    /// MicroMDM: `POST {url}/v1/commands/{udid}`.
    case micromdm
    /// Any other MDM: a Standard Webhooks signed JSON event per command.
    case webhook
    /// The MDM pulls: `GET /v1/device-commands` and acknowledges each; vpp sends nothing.
    case pull
}

/// One tenant's MDM server connection. Secrets are stored sealed and never leave the use cases.
public struct MDMConnection: Hashable, Sendable {
    public var kind: MDMKind
    /// The MDM server's base URL (the webhook kind: the endpoint events are POSTed to).
    public var url: String
    /// Licences of a device that left MDM are reclaimed after this long (0 = at once).
    public var reclaimAfter: TimeInterval
    /// A device silent for this many days counts as unenrolled (CheckOut is best effort); nil = never.
    public var silentDaysUnenrolled: Int?
    /// Licence-only mode: assign without sending installs (third-party installers).
    public var licenceOnly: Bool
    /// Licence-only for these apps (adamIds) only.
    public var licenceOnlyAdamIDs: Set<String>
    /// Set when the webhook endpoint answered 410 Gone: nothing is sent until the connection is saved again.
    public var disabledReason: String?
    public var updatedAt: Date

    public init(
        kind: MDMKind,
        url: String,
        reclaimAfter: TimeInterval = 24 * 3600,
        silentDaysUnenrolled: Int? = nil,
        licenceOnly: Bool = false,
        licenceOnlyAdamIDs: Set<String> = [],
        disabledReason: String? = nil,
        updatedAt: Date
    ) {
        self.kind = kind
        self.url = url
        self.reclaimAfter = reclaimAfter
        self.silentDaysUnenrolled = silentDaysUnenrolled
        self.licenceOnly = licenceOnly
        self.licenceOnlyAdamIDs = licenceOnlyAdamIDs
        self.disabledReason = disabledReason
        self.updatedAt = updatedAt
    }

    public func isLicenceOnly(adamID: String) -> Bool { licenceOnly || licenceOnlyAdamIDs.contains(adamID) }
}

/// The connection's secrets, sealed with the ``SecretBox``.
public struct MDMSealedSecrets: Hashable, Sendable {
    /// The MDM server's API key (NanoMDM `-api`, MicroMDM API key).
    public var apiKey: SealedSecret?
    /// The key the MDM server signs its webhook with (`X-Hmac-Signature`).
    public var webhookHMACKey: SealedSecret?
    /// The `whsec_` secret vpp signs outbound Standard Webhooks with.
    public var signingSecret: SealedSecret?

    public init(apiKey: SealedSecret? = nil, webhookHMACKey: SealedSecret? = nil, signingSecret: SealedSecret? = nil) {
        self.apiKey = apiKey
        self.webhookHMACKey = webhookHMACKey
        self.signingSecret = signingSecret
    }
}
