import Foundation

/// Refusals of the MDM use cases, each naming the problem; nothing is changed when one is thrown.
public enum MDMError: Error, Hashable, Sendable, CustomStringConvertible {
    case badURL(String)
    /// The URL is well formed but vpp may not call it (``OutboundPolicy``): the URL, then why.
    case refusedURL(String, String)
    case missingAPIKey(MDMKind)
    case badSecret(String)
    case badDuration(String)
    case notConnected
    /// The webhook's signature is missing or wrong (or no key/connection lets vpp trust it).
    case badSignature
    /// The connection has no webhook HMAC key: nothing vouches for an event's sender, so none is accepted.
    case unsignedWebhook
    case unknownCommand(UUID)
    case unknownDeclarationChange(UUID)
    case badAcknowledgement(String)
    /// A signed webhook body that is not a usable event (the reason names the field); nothing was recorded.
    case malformedEvent(String)

    public var description: String {
        switch self {
        case .badURL(let url): "\"\(url.prefix(200))\" is not an http(s) URL."
        case .refusedURL(let url, let reason):
            "vpp may not call \"\(url.prefix(200))\": \(reason). An operator can allow a host with VPP_OUTBOUND_ALLOW."
        case .missingAPIKey(let kind): "The \(kind.rawValue) kind needs the MDM server's API key (--api-key-file)."
        case .badSecret(let detail): "Unusable secret: \(detail)."
        case .badDuration(let text): "\"\(text.prefix(40))\" is not a duration (e.g. 0, 90s, 30m, 24h, 7d)."
        case .notConnected: "This tenant has no MDM connection; set one with `vppctl mdm connect` or PUT /v1/mdm."
        case .badSignature: "The webhook signature is missing or does not match."
        case .unsignedWebhook:
            "This tenant's MDM connection has no webhook HMAC key, so device events are refused: set one "
                + "(vppctl mdm connect … --hmac-key-file, or webhookHmacKey in PUT /v1/mdm) and give it to the "
                + "MDM server."
        case .unknownCommand(let id): "No device command \(id.uuidString.lowercased()) in this tenant."
        case .unknownDeclarationChange(let id):
            "No declaration-set change \(id.uuidString.lowercased()) in this tenant."
        case .badAcknowledgement(let detail): "Refused acknowledgement: \(detail)."
        case .malformedEvent(let reason): "Not a usable MicroMDM-compatible webhook event: \(reason)."
        }
    }

    /// Parses `0`, `90s`, `30m`, `24h`, `7d` (a bare number is seconds).
    public static func duration(_ text: String) throws(MDMError) -> TimeInterval {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        var number = Substring(trimmed)
        var factor = 1.0
        if let last = trimmed.last, let unit = units[last] {
            number = trimmed.dropLast()
            factor = unit
        }
        guard let value = Double(number), value >= 0, value.isFinite, value * factor <= 366 * 86400 else {
            throw .badDuration(text)
        }
        return value * factor
    }
}
