import Foundation

/// The id an MDM server knows a device by: its UDID (40 hex digits on older iPhones and iPads,
/// `00008030-001A35E11A53802E` on newer ones, a UUID on Macs), a User Enrollment's `EnrollmentID`, or
/// NanoMDM's `udid:user` for a user channel. It is placed in the URL vpp calls at the MDM server, so it is
/// checked when it arrives (a webhook event with another shape is refused, not stored as a device) and
/// percent-encoded as one path segment when it leaves (``pathSegment``).
public struct EnrollmentID: Hashable, Sendable, Codable, CustomStringConvertible {
    public let value: String

    /// The longest id accepted: a UUID-form UDID plus `:` and a user UUID is 73 characters.
    public static let maximumLength = 128

    /// Why an enrollment id was refused.
    public struct Invalid: Error, Hashable, Sendable, CustomStringConvertible {
        public let text: String
        public var description: String {
            "\"\(text.prefix(60))\" is not an enrollment id (expected 1 to \(EnrollmentID.maximumLength) letters, "
                + "digits, '-', '_' or ':')."
        }
    }

    /// Accepts 1 to 128 ASCII letters, digits, `-`, `_` and `:`: every documented shape, and nothing a URL
    /// path gives meaning to (`/`, `.`, `%`, `?`, `#`, spaces, control characters).
    public init(_ text: String) throws(Invalid) {
        guard (1...Self.maximumLength).contains(text.unicodeScalars.count),
            text.unicodeScalars.allSatisfy(Self.allowed)
        else { throw Invalid(text: text) }
        value = text
    }

    static func allowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "-", "_", ":": true
        default: false
        }
    }

    public var description: String { value }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { self = try EnrollmentID(text) } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: error.description)
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    /// `text` as exactly one URL path segment: everything but RFC 3986's unreserved characters is
    /// percent-encoded (`/` becomes `%2F`), and a segment of dots alone (`.`, `..`), which a server would
    /// resolve as a path step, has its dots encoded too. Used for every value vpp puts in an outbound path,
    /// valid or not, so an id stored before validation existed cannot step out of its segment either.
    public static func pathSegment(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "~"),
                UInt8(ascii: "."):
                encoded.append(Character(Unicode.Scalar(byte)))
            default:
                encoded += String(format: "%%%02X", byte)
            }
        }
        if !encoded.isEmpty, encoded.allSatisfy({ $0 == "." }) {
            encoded = String(repeating: "%2E", count: encoded.count)
        }
        return encoded
    }

    /// This id as one URL path segment (see ``pathSegment(_:)``).
    public var pathSegment: String { Self.pathSegment(value) }
}
