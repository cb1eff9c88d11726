import Foundation

/// Why a group or scope definition was refused.
public enum DesiredStateError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidName(String)
    case invalidModelPrefix(String)
    case invalidPriority(Int)
    case invalidGrace(Int)
    case modeNotAvailable(String)
    case emptyScope(String)

    public var description: String {
        switch self {
        case .invalidName(let text):
            "\"\(text.prefix(80))\" is not a valid name (1 to 64 letters, digits, '.', '_' or '-', starting with a "
                + "letter or digit)."
        case .invalidModelPrefix(let text):
            "\"\(text.prefix(80))\" is not a model prefix (1 to 32 letters, digits, ',' or '-')."
        case .invalidPriority(let value):
            "priority \(value) is out of range (-1,000,000 to 1,000,000)."
        case .invalidGrace(let value):
            "removalGraceSeconds \(value) is out of range (0 to 31,536,000, one year)."
        case .modeNotAvailable(let mode):
            "delivery mode \"\(mode)\" is unknown (install, licenceOnly or declaration)."
        case .emptyScope(let name):
            "scope \(name) names no group, serial number or user."
        }
    }
}

/// The shared rule for the names admins give groups and scopes: they appear in URLs and in audit lines.
enum DesiredStateName {
    static func validated(_ text: String) throws(DesiredStateError) -> String {
        let scalars = text.unicodeScalars
        guard (1...64).contains(scalars.count), let first = scalars.first,
            first.isASCII, CharacterSet.alphanumerics.contains(first),
            scalars.allSatisfy({
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0))
            })
        else { throw .invalidName(text) }
        return text
    }
}

/// The name of a group of devices and users, unique per tenant.
public struct GroupName: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public let value: String
    public init(_ text: String) throws(DesiredStateError) { value = try DesiredStateName.validated(text) }
    public var description: String { value }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }
}

/// The name of an app scope, unique per tenant.
public struct ScopeName: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public let value: String
    public init(_ text: String) throws(DesiredStateError) { value = try DesiredStateName.validated(text) }
    public var description: String { value }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }
}
