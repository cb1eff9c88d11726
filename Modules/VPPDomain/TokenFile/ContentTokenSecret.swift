import Foundation

/// The secret of a content token: the whole trimmed Base64 text of a `.vpptoken` file, which Apple
/// expects as `Authorization: Bearer <secret>`.
///
/// It never shows itself: `description`, `debugDescription`, string interpolation, `dump` and
/// `Encodable` output all give only ``fingerprint``. The one way to read it is ``revealForTransport()``,
/// which is easy to find in review.
public struct ContentTokenSecret: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable, Encodable
{
    private let value: String

    /// Wraps secret text already validated by ``ContentTokenFile/parse(_:now:)`` or read back from storage.
    public init(unchecked value: String) { self.value = value }

    /// The first 8 hex digits of the SHA-256 of the secret: enough to tell files apart, useless to an attacker.
    public var fingerprint: String { String(SHA256Digest.hex(of: value).prefix(8)) }

    /// The secret itself, for the Authorization header and for encryption at rest. Never log the result.
    public func revealForTransport() -> String { value }

    public var description: String { "ContentTokenSecret(sha256:\(fingerprint))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["fingerprint": fingerprint], displayStyle: .struct) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode("sha256:\(fingerprint)")
    }
}
