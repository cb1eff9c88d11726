import Foundation
import VPPDomain

/// The opaque keyset cursor of a licence listing (the last licence's id, versioned so its shape may change).
public enum LicenceCursor {
    static let prefix = "l1."
    /// The cursors of the other orders (``SortedCursor``).
    static let sortedPrefix = "l2."

    public static func encode(_ id: AssignmentID) -> String {
        prefix + Data(id.rawValue.uuidString.lowercased().utf8).base64EncodedString()
    }

    /// Reads a cursor; anything that is not one of ours is `nil`.
    public static func decode(_ cursor: String) -> AssignmentID? {
        guard cursor.hasPrefix(prefix), cursor.count < 80,
            let data = Data(base64Encoded: String(cursor.dropFirst(prefix.count))),
            let uuid = UUID(uuidString: String(decoding: data, as: UTF8.self))
        else { return nil }
        return AssignmentID(uuid)
    }
}
