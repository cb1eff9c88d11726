import Foundation
import VPPDomain

/// The tenant's default app delivery: InstallApplication commands, or declarations (a scope may still choose per
/// app). Changing it affects licences Apple confirms from then on; a licence whose device joined a declaration
/// set leaves that set when revoked, whatever the default is by then.
public struct ConfigureAppDelivery: Sendable {
    let store: any Store
    let clock: any Clock
    let secrets: any SecretBox
    let auditTrail: AuditTrail
    /// Which DDM server URLs may be saved (the operator's `VPP_OUTBOUND_ALLOW`).
    let outbound: OutboundPolicy

    /// Takes only what this use case touches.
    public init(
        store: any Store,
        clock: any Clock,
        secrets: any SecretBox,
        auditTrail: AuditTrail,
        outbound: OutboundPolicy = .strict
    ) {
        self.store = store
        self.clock = clock
        self.secrets = secrets
        self.auditTrail = auditTrail
        self.outbound = outbound
    }

    /// Chooses the tenant's DDM server (`off` keeps changes queued); the key is sealed, never shown again. The
    /// webhook kind takes no key: vpp makes a new `whsec_` signing secret and returns it, this once. Choosing
    /// webhook again keeps the secret the receiver already verifies with (nil is returned) unless `rotateSecret`.
    @discardableResult
    public func setPublisher(
        _ caller: Caller,
        _ kind: DeclarationPublisherKind,
        url: String?,
        apiKey: String?,
        rotateSecret: Bool = false
    ) async throws -> String? {
        try caller.require(.manageTenant)
        var settings = DeclarationPublisherSettings(kind: kind)
        var secret: String?
        // off and pull call nothing: no URL, no key.
        if kind != .off, kind != .pull {
            let trimmed = (url ?? "").trimmingCharacters(in: .whitespaces)
            guard let parsed = URL(string: trimmed), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""),
                parsed.host != nil
            else { throw MDMError.badURL(trimmed) }
            // vpp sends the DDM server's key to this URL: the same outbound rule as the MDM connection's.
            if let reason = outbound.refusal(forURL: trimmed) { throw MDMError.refusedURL(trimmed, reason) }
            var key = (apiKey ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            settings.url = trimmed.hasSuffix("/") ? String(trimmed.dropLast()) : trimmed
            let current = try await store.inTenant(caller.tenantID) { tx in try await tx.declarationPublisher() }
            if kind == .webhook, current.kind == .webhook, let kept = current.apiKey, !rotateSecret {
                settings.apiKey = kept  // the receiver keeps verifying with the secret it has
            } else {
                if kind == .webhook {
                    key = "whsec_" + Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
                    secret = key
                }
                guard !key.isEmpty else { throw MDMError.badSecret("the DDM server's API key is empty") }
                settings.apiKey = try secrets.seal(key)
            }
        }
        let saved = settings
        try await store.inTenant(caller.tenantID) { tx in
            try await tx.saveDeclarationPublisher(saved, now: clock.now())
            try await auditTrail.record(
                tx,
                caller,
                AuditEntry(.mdmDeclarations, .declarationPublisher(kind), .ok, saved.url ?? "")
            )
        }
        return secret
    }

    /// The tenant's DDM server: kind and URL (the key is never shown).
    public func publisher(_ caller: Caller) async throws -> (kind: DeclarationPublisherKind, url: String?) {
        try caller.require(.read)
        let settings = try await store.inTenant(caller.tenantID) { tx in try await tx.declarationPublisher() }
        return (settings.kind, settings.url)
    }

    /// Sets the default; audited.
    public func set(_ caller: Caller, _ delivery: AppDelivery) async throws {
        try caller.require(.manageTenant)
        try await store.inTenant(caller.tenantID) { tx in
            try await tx.setAppDelivery(delivery, now: clock.now())
            try await auditTrail.record(tx, caller, AuditEntry(.mdmDelivery, .appDelivery(delivery)))
        }
    }

    /// The current default.
    public func show(_ caller: Caller) async throws -> AppDelivery {
        try caller.require(.read)
        return try await store.inTenant(caller.tenantID) { tx in try await tx.appDelivery() }
    }

    /// One device's declaration-set changes (or the tenant's first `limit`), oldest first.
    public func setChanges(
        _ caller: Caller,
        serial: SerialNumber?,
        limit: Int = 1000
    ) async throws
        -> [DeclarationSetChangeView]
    {
        try caller.require(.read)
        return try await store.inTenant(caller.tenantID) { tx in
            try await tx.declarationSetChanges(serial: serial?.value, limit: limit)
        }.map(DeclarationSetChangeView.init)
    }
}

/// One declaration-set change as the CLI's `--json` prints it.
public struct DeclarationSetChangeView: Codable, Hashable, Sendable {
    public let id: String
    /// The device (empty for a user licence's change, which names ``clientUserId``).
    public let serialNumber: String
    public let clientUserId: String?
    public let adamId: String
    public let pricingParam: String
    /// The declaration's identifier, also the set's name.
    public let declaration: String
    /// `join` or `leave`.
    public let change: String
    /// `queued`, `done` or `failed`.
    public let state: String
    public let attempts: Int
    public let lastError: String?
    public let createdAt: String
    public let updatedAt: String?
    /// What the device last reported about the app (`managed`, `failed`, …; joins only) and its reason codes.
    public let deviceState: String?
    public let deviceReasons: [String]
    public let reportedAt: String?
    /// The licence's install in the command path's words (`verified`, `error`, `failed`; joins only).
    public let installState: String?
    /// Heals of `Error.LicenseNotFound`: how many, the last one's step, and Apple's and the device's reasons.
    public let healAttempts: Int
    public let healState: String?
    public let healError: String?

    public init(_ record: DeclarationSetChangeRecord) {
        let change = record.change
        id = change.id.uuidString.lowercased()
        serialNumber = change.serialNumber
        clientUserId = change.clientUserID?.value
        adamId = change.asset.adamID
        pricingParam = change.asset.pricingParam.rawValue
        declaration =
            (try? ManagedAppDeclaration(asset: change.asset, assignment: change.licenceKind))?.identifier ?? ""
        self.change = change.kind.rawValue
        state = record.state.rawValue
        attempts = record.attempts
        lastError = record.lastError
        createdAt = ISO8601Timestamp.format(change.createdAt)
        updatedAt = record.updatedAt.map(ISO8601Timestamp.format)
        deviceState = record.deviceState
        deviceReasons = record.deviceReasons.map(\.code)
        reportedAt = record.reportedAt.map(ISO8601Timestamp.format)
        installState = record.installState?.rawValue
        healAttempts = record.healAttempts
        healState = record.healStep?.rawValue
        healError = record.healError
    }
}
