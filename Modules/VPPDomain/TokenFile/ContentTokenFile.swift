import Foundation

/// A parsed, checked `.vpptoken` file: one Base64 string (standard or URL-safe alphabet) of the JSON
/// object `{token, expDate, orgName}`.
///
/// Parsing changes nothing anywhere; it either returns a value whose every field is present and whose
/// expiry is in the future, or throws the one ``TokenFileError`` that names the problem.
public struct ContentTokenFile: Hashable, Sendable, CustomStringConvertible, CustomReflectable, Encodable {
    /// Files larger than this are refused before any decoding: real tokens are a few hundred bytes.
    public static let maximumSize = 64 * 1024

    /// The whole trimmed Base64 text; Apple's bearer.
    public let secret: ContentTokenSecret
    /// `expDate`.
    public let expiresAt: Date
    /// `orgName`.
    public let organizationName: String

    /// Parses the raw bytes of a `.vpptoken` file, checking expiry against `now`.
    public static func parse(_ data: Data, now: Date) throws(TokenFileError) -> ContentTokenFile {
        guard data.count <= maximumSize else { throw .tooLarge(bytes: data.count, limit: maximumSize) }
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }  // UTF-8 byte-order mark from some editors
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) || bytes.contains(0) {
            throw .binaryOrWrongEncoding
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .binaryOrWrongEncoding }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .empty }
        // Control characters mean binary content; other non-ASCII text is simply not Base64.
        if trimmed.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) {
            throw .binaryOrWrongEncoding
        }
        guard trimmed.unicodeScalars.allSatisfy(\.isASCII) else { throw .notBase64 }
        guard let decoded = Self.decodeBase64(trimmed) else { throw .notBase64 }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: decoded, options: [.fragmentsAllowed])
        } catch {
            throw .notJSON
        }
        guard let fields = object as? [String: Any] else { throw .wrongShape(found: Self.jsonKind(of: object)) }
        let token = try Self.requiredString("token", in: fields)
        let expiry = try Self.requiredString("expDate", in: fields)
        let orgName = try Self.requiredString("orgName", in: fields)
        _ = token  // validated for presence; Apple wants the whole file as bearer, not this inner value
        guard let expiresAt = ISO8601Timestamp.parse(expiry) else { throw .unreadableDate(expiry) }
        guard expiresAt > now else { throw .alreadyExpired(expiresAt) }
        return ContentTokenFile(
            secret: ContentTokenSecret(unchecked: trimmed),
            expiresAt: expiresAt,
            organizationName: orgName
        )
    }

    /// Parses file text (convenience for callers that already hold a `String`).
    public static func parse(_ text: String, now: Date) throws(TokenFileError) -> ContentTokenFile {
        try parse(Data(text.utf8), now: now)
    }

    public var description: String {
        "ContentTokenFile(org: \(organizationName), expires: \(ISO8601Timestamp.format(expiresAt)), secret: "
            + "sha256:\(secret.fingerprint))"
    }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "organizationName": organizationName, "expiresAt": expiresAt,
                "secretFingerprint": secret.fingerprint,
            ],
            displayStyle: .struct
        )
    }

    /// Base64 in the standard or the URL-safe alphabet (not both at once: that means a damaged file),
    /// with or without `=` padding, and no inner whitespace.
    static func decodeBase64(_ text: String) -> Data? {
        let hasStandard = text.contains("+") || text.contains("/")
        let hasURLSafe = text.contains("-") || text.contains("_")
        if hasStandard && hasURLSafe { return nil }
        var body = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while body.hasSuffix("=") { body.removeLast() }
        guard !body.isEmpty, body.count % 4 != 1 else { return nil }
        body += String(repeating: "=", count: (4 - body.count % 4) % 4)
        return Data(base64Encoded: body)
    }

    private static func requiredString(_ name: String, in fields: [String: Any]) throws(TokenFileError) -> String {
        guard let raw = fields[name], !(raw is NSNull) else { throw .missingField(name) }
        guard let value = raw as? String else { throw .wrongShape(found: "whose \"\(name)\" is not text") }
        guard !value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw .emptyField(name) }
        return value
    }

    private static func jsonKind(of object: Any) -> String {
        switch object {
        case is [Any]: "an array"
        case is String: "a string"
        case is NSNumber: "a number"
        case is NSNull: "null"
        default: "of another kind"
        }
    }
}
