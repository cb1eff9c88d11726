import Foundation
import VPPDomain

/// Input refused at the edge, before any use case or database sees it: 422 with a specific `code`
/// naming what is wrong and where. (Without these checks PostgreSQL refused NULs, over-long text and
/// overflowing integers itself, and the refusal surfaced as a misleading 503.)
struct InvalidInput: Error, Hashable, Sendable, CustomStringConvertible {
    enum Code: String, Sendable, CaseIterable {
        /// NUL or another control character in text.
        case controlCharacters = "control_characters"
        /// Text longer than the field allows.
        case tooLong = "too_long"
        /// The same item more than once in one request.
        case duplicateItems = "duplicate_items"
        /// A number outside the range the field allows.
        case outOfRange = "out_of_range"
        /// Too many items in one request.
        case tooManyItems = "too_many_items"
        /// An adamId that is not 1 to 20 ASCII digits.
        case invalidAdamID = "invalid_adam_id"
        /// A pricing parameter other than STDQ or PLUS.
        case invalidPricingParam = "invalid_pricing_param"
        /// An API key request with a bad role, name or expiry.
        case invalidAPIKeyRequest = "invalid_api_key_request"
    }

    let code: Code
    let field: String
    let detail: String

    var description: String { "\(field): \(detail)" }
}

/// The checks the routes apply to caller-supplied text, lists and numbers.
enum EdgeValidation {
    /// Longest list in one request (a bulk assignment of 10,000 serials fits in the 256 KiB body limit).
    static let maxItems = 10_000

    /// Refuses NUL and other control characters (tabs and line breaks too, unless `multiline`), and text
    /// longer than `limit` characters.
    static func text(_ value: String, field: String, limit: Int, multiline: Bool = false) throws {
        let allowed: Set<Unicode.Scalar> = multiline ? ["\n", "\r", "\t"] : []
        if let bad = value.unicodeScalars.first(where: {
            $0.properties.generalCategory == .control && !allowed.contains($0)
        }) {
            throw InvalidInput(
                code: .controlCharacters,
                field: field,
                detail: String(format: "control character U+%04X is not allowed", bad.value)
            )
        }
        guard value.count <= limit else {
            throw InvalidInput(code: .tooLong, field: field, detail: "at most \(limit) characters (got \(value.count))")
        }
    }

    /// Refuses a list with more than ``maxItems`` entries or any entry twice (compared as given: callers pass the
    /// form values are stored in, e.g. ``SerialNumber/storedForm(_:)``).
    static func distinct(_ values: [String], field: String) throws {
        guard values.count <= maxItems else {
            throw InvalidInput(
                code: .tooManyItems,
                field: field,
                detail: "at most \(maxItems) items per request (got \(values.count))"
            )
        }
        var seen = Set<String>()
        var repeated: [String] = []
        for value in values where !seen.insert(value).inserted {
            repeated.append(value)
        }
        guard repeated.isEmpty else {
            let shown = repeated.prefix(5).map { String($0.prefix(40)) }.joined(separator: ", ")
            throw InvalidInput(code: .duplicateItems, field: field, detail: "listed more than once: \(shown)")
        }
    }

    /// Refuses anything but 1 to 20 ASCII digits.
    static func adamID(_ value: String, field: String) throws {
        guard AdamID.isValid(value) else {
            throw InvalidInput(
                code: .invalidAdamID,
                field: field,
                detail: "\"\(value.prefix(40))\" is not an adamId (1 to 20 ASCII digits)"
            )
        }
    }

    /// `STDQ` (the default when absent) or `PLUS`; anything else is refused, never defaulted.
    static func pricingParam(_ value: String?) throws -> PricingParam {
        guard let value else { return .standard }
        guard let parsed = PricingParam(rawValue: value) else {
            throw InvalidInput(
                code: .invalidPricingParam,
                field: "pricingParam",
                detail: "must be STDQ or PLUS (got \"\(value.prefix(40))\")"
            )
        }
        return parsed
    }
}
