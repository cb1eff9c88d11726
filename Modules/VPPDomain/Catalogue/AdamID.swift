import Foundation

/// The shape of Apple's store product id (`adamId`): 1 to 20 ASCII digits, as Apple sends it (text).
/// Checked at every edge that accepts one, so look-alike digits (Arabic-Indic, full-width) are refused.
public enum AdamID {
    /// Whether `text` is 1 to 20 ASCII digits.
    public static func isValid(_ text: String) -> Bool {
        let scalars = text.unicodeScalars
        return (1...20).contains(scalars.count) && scalars.allSatisfy { ("0"..."9").contains($0) }
    }
}
