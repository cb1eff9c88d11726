import Foundation

/// Why an identifier given by a caller was refused.
public enum IdentifierError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidSerialNumber(String)
    case invalidClientUserID(String)
    case invalidEmail(String)

    public var description: String {
        switch self {
        case .invalidSerialNumber(let text):
            "\"\(text.prefix(40))\" is not a device serial number (expected 8 to 20 letters and digits)."
        case .invalidClientUserID(let text):
            "\"\(text.prefix(40))\" is not a client user id (expected 1 to 256 printable characters, no spaces at "
                + "the ends)."
        case .invalidEmail(let text):
            "\"\(text.prefix(60))\" is not an e-mail address."
        }
    }
}

/// An Apple device serial number, normalised to upper case.
public struct SerialNumber: Hashable, Sendable, Codable, Comparable {
    public let value: String

    /// Accepts 8 to 20 ASCII letters and digits (Apple serials are 10–12 today; older ones 11;
    /// randomised ones 10). Surrounding spaces are trimmed. The shape is checked before upper-casing,
    /// so a Unicode look-alike (the ligature "ﬀ" upper-cases to "FF") is refused, never folded.
    public init(_ text: String) throws(IdentifierError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (8...20).contains(trimmed.unicodeScalars.count),
            trimmed.unicodeScalars.allSatisfy({ $0.isASCII && CharacterSet.alphanumerics.contains($0) })
        else { throw .invalidSerialNumber(text) }
        self.value = trimmed.uppercased()
    }

    /// The text `text` is stored as when it is a valid serial number (trimmed, upper-cased; the shape is not
    /// checked): what a request's list is compared by, so two spellings of one device count as one.
    public static func storedForm(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { self = try SerialNumber(text) } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: error.description)
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }
}

/// The MDM's own identifier for a managed user, registered with Apple through `users/create`.
public struct ClientUserID: Hashable, Sendable, Codable, Comparable {
    public let value: String

    public init(_ text: String) throws(IdentifierError) {
        guard (1...256).contains(text.count),
            text == text.trimmingCharacters(in: .whitespacesAndNewlines),
            !text.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) })
        else { throw .invalidClientUserID(text) }
        self.value = text
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { self = try ClientUserID(text) } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: error.description)
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }
}
