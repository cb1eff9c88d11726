import Foundation

/// A LIKE pattern matching text that contains a search, for `LIKE ? ESCAPE '\\'`.
enum LikePattern {
    /// `%text%`, lower-cased, with LIKE's own characters (`%`, `_`, `\\`) escaped so they match themselves.
    static func containing(_ search: String) -> String {
        let escaped = search.lowercased()
            .replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
        return "%\(escaped)%"
    }
}
