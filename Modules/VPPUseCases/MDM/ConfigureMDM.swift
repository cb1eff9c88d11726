import Foundation
import VPPDomain

/// What an admin asks for when connecting a tenant to its MDM server.
public struct MDMConnectionRequest: Sendable {
    public var kind: MDMKind
    public var url: String
    /// The MDM server's API key (NanoMDM/MicroMDM), read from a file or the request; never stored in clear.
    public var apiKey: String?
    /// The key the MDM server signs its webhook with.
    public var webhookHMACKey: String?
    public var reclaimAfter: TimeInterval?
    public var silentDaysUnenrolled: Int?
    public var licenceOnly: Bool?
    public var licenceOnlyAdamIDs: Set<String>?

    public init(
        kind: MDMKind,
        url: String,
        apiKey: String? = nil,
        webhookHMACKey: String? = nil,
        reclaimAfter: TimeInterval? = nil,
        silentDaysUnenrolled: Int? = nil,
        licenceOnly: Bool? = nil,
        licenceOnlyAdamIDs: Set<String>? = nil
    ) {
        self.kind = kind
        self.url = url
        self.apiKey = apiKey
        self.webhookHMACKey = webhookHMACKey
        self.reclaimAfter = reclaimAfter
        self.silentDaysUnenrolled = silentDaysUnenrolled
        self.licenceOnly = licenceOnly
        self.licenceOnlyAdamIDs = licenceOnlyAdamIDs
    }
}

/// The connection as shown to admins: no secret, only whether each is set.
public struct MDMConnectionView: Encodable, Sendable, Hashable {
    public let kind: String
    public let url: String
    /// The URL to give the MDM server as its webhook (`-webhook-url`), when vpp knows its public URL.
    public let webhookURL: String?
    public let hasAPIKey: Bool
    public let hasWebhookHMACKey: Bool
    public let reclaimAfterSeconds: Int
    public let silentDaysUnenrolled: Int?
    public let licenceOnly: Bool
    public let licenceOnlyAdamIds: [String]
    public let disabledReason: String?
    /// Set when the connection has no webhook HMAC key: the MDM server's device events are refused until one is.
    public let webhookWarning: String?
    /// Device commands by state.
    public let commands: [String: Int]
    /// The `whsec_` signing secret: returned once, when the webhook kind is connected; never again.
    public let signingSecret: String?
    /// The webhook key vpp generated because none was given: returned once, never again. The MDM server signs its
    /// events with it (`X-Hmac-Signature`) or, if it cannot sign, posts to ``webhookSecretURL``.
    public let webhookKey: String?
    /// The webhook URL with the generated key in its path (for MDM servers that cannot sign); returned once.
    public let webhookSecretURL: String?
}

/// Connects a tenant to its MDM server and shows the connection.
public struct ConfigureMDM: Sendable {
    let store: any Store
    let clock: any Clock
    let secrets: any SecretBox
    let publicURL: String?
    let auditTrail: AuditTrail
    /// Which MDM and webhook URLs may be saved (the operator's `VPP_OUTBOUND_ALLOW`).
    let outbound: OutboundPolicy

    /// Takes only what this use case touches.
    public init(
        store: any Store,
        clock: any Clock,
        secrets: any SecretBox,
        publicURL: String?,
        auditTrail: AuditTrail,
        outbound: OutboundPolicy = .strict
    ) {
        self.store = store
        self.clock = clock
        self.secrets = secrets
        self.publicURL = publicURL
        self.auditTrail = auditTrail
        self.outbound = outbound
    }

    public func connect(_ caller: Caller, _ request: MDMConnectionRequest) async throws -> MDMConnectionView {
        try caller.require(.manageTenant)
        let trimmed = request.url.trimmingCharacters(in: .whitespaces)
        if request.kind != .pull {
            guard let url = URL(string: trimmed), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
                url.host != nil
            else { throw MDMError.badURL(request.url) }
        }
        let apiKey = request.apiKey?.trimmingCharacters(in: .whitespacesAndNewlines)
        if [.nanomdm, .micromdm].contains(request.kind), apiKey?.isEmpty ?? true {
            throw MDMError.missingAPIKey(request.kind)
        }
        var hmacKey = request.webhookHMACKey?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let hmacKey, hmacKey.isEmpty { throw MDMError.badSecret("the webhook HMAC key is empty") }
        if let days = request.silentDaysUnenrolled, !(1...3650).contains(days) {
            throw MDMError.badDuration("\(days) days")
        }
        // vpp sends the MDM's credentials to this URL: never to an internal address or over plain http unless the
        // operator named the host (checked again on the resolved addresses at every connection).
        if request.kind != .pull, let reason = outbound.refusal(forURL: trimmed) {
            throw MDMError.refusedURL(trimmed, reason)
        }
        let previous = try await store.inTenant(caller.tenantID) { tx in try await tx.mdmConnection() }
        // Without a key the webhook would trust anyone who knows the tenant id: vpp makes one (hex, so it can stand
        // in a URL path too) and shows it once. A connection saved before this keeps none until reconnected, and
        // its events are refused meanwhile (``MDMError/unsignedWebhook``).
        var generatedKey: String?
        if hmacKey == nil, previous?.secrets.webhookHMACKey == nil {
            let key = randomHex(bytes: 32)
            generatedKey = key
            hmacKey = key
        }
        // A new whsec_ secret only when the webhook kind is first chosen; reconnecting keeps the receiver's secret.
        var signingSecret: String?
        var sealedSigning = previous?.secrets.signingSecret
        if request.kind == .webhook, sealedSigning == nil || previous?.connection.kind != .webhook {
            let secret = "whsec_" + Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            signingSecret = secret
            sealedSigning = try secrets.seal(secret)
        }
        let connection = MDMConnection(
            kind: request.kind,
            url: trimmed.hasSuffix("/") ? String(trimmed.dropLast()) : trimmed,
            reclaimAfter: request.reclaimAfter ?? previous?.connection.reclaimAfter ?? 24 * 3600,
            silentDaysUnenrolled: request.silentDaysUnenrolled ?? previous?.connection.silentDaysUnenrolled,
            licenceOnly: request.licenceOnly ?? previous?.connection.licenceOnly ?? false,
            licenceOnlyAdamIDs: request.licenceOnlyAdamIDs ?? previous?.connection.licenceOnlyAdamIDs ?? [],
            disabledReason: nil,
            updatedAt: clock.now()
        )
        let secrets = MDMSealedSecrets(
            apiKey: try apiKey.map(secrets.seal)
                ?? (request.kind == previous?.connection.kind ? previous?.secrets.apiKey : nil),
            webhookHMACKey: try hmacKey.map(secrets.seal) ?? previous?.secrets.webhookHMACKey,
            signingSecret: request.kind == .webhook ? sealedSigning : nil
        )
        let stored = StoredMDMConnection(connection: connection, secrets: secrets)
        let counts = try await store.inTenant(caller.tenantID) { tx in
            try await tx.saveMDMConnection(stored)
            try await auditTrail.record(
                tx,
                caller,
                AuditEntry(
                    .mdmConnect,
                    .mdmServer(connection.kind),
                    .ok,
                    "url \(connection.url); reclaim after \(Int(connection.reclaimAfter)) s"
                )
            )
            return try await tx.deviceCommandCounts()
        }
        return view(
            caller.tenantID,
            stored,
            counts: counts,
            signingSecret: signingSecret,
            generatedWebhookKey: generatedKey
        )
    }

    public func show(_ caller: Caller) async throws -> MDMConnectionView {
        try caller.require(.read)
        let (stored, counts) = try await store.inTenant(caller.tenantID) { tx in
            (try await tx.mdmConnection(), try await tx.deviceCommandCounts())
        }
        guard let stored else { throw MDMError.notConnected }
        return view(caller.tenantID, stored, counts: counts, signingSecret: nil)
    }

    func view(
        _ tenant: TenantID,
        _ stored: StoredMDMConnection,
        counts: [DeviceCommandState: Int],
        signingSecret: String?,
        generatedWebhookKey: String? = nil
    ) -> MDMConnectionView {
        let c = stored.connection
        let base = publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        return MDMConnectionView(
            kind: c.kind.rawValue,
            url: c.url,
            webhookURL: base.map { "\($0)/mdm/webhook/\(tenant)" },
            hasAPIKey: stored.secrets.apiKey != nil,
            hasWebhookHMACKey: stored.secrets.webhookHMACKey != nil,
            reclaimAfterSeconds: Int(c.reclaimAfter),
            silentDaysUnenrolled: c.silentDaysUnenrolled,
            licenceOnly: c.licenceOnly,
            licenceOnlyAdamIds: c.licenceOnlyAdamIDs.sorted(),
            disabledReason: c.disabledReason,
            webhookWarning: stored.secrets.webhookHMACKey == nil ? MDMError.unsignedWebhook.description : nil,
            commands: Dictionary(
                uniqueKeysWithValues: DeviceCommandState.allCases.map { ($0.rawValue, counts[$0] ?? 0) }
            ),
            signingSecret: signingSecret,
            webhookKey: generatedWebhookKey,
            webhookSecretURL: generatedWebhookKey.flatMap { key in base.map { "\($0)/mdm/webhook/\(tenant)/\(key)" } }
        )
    }
}
