import Foundation

/// JSON already encoded, placed as a value of an answer's top-level object and written out as is by
/// ``SimResponse/json(_:_:headers:)``.
///
/// Why: a page of 500 assignments built as `[String: Any]` and written by `JSONSerialization` (casting every value,
/// sorting every item's keys) was three quarters of vppsim's CPU during a full sync, on the same cores as the vpp
/// it serves in the benchmarks. Items encoded by `JSONEncoder` from a `Codable` type cost a fraction of that.
struct EncodedJSON: Sendable {
    let data: Data

    init(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        data = try encoder.encode(value)
    }

    /// `object` written with `JSONSerialization`, each ``EncodedJSON`` value among its top-level values spliced in
    /// where a unique placeholder string was written.
    static func serialize(_ object: Any, options: JSONSerialization.WritingOptions) throws -> Data {
        guard var top = object as? [String: Any], top.values.contains(where: { $0 is EncodedJSON }) else {
            return try JSONSerialization.data(withJSONObject: object, options: options)
        }
        var spliced: [(placeholder: Data, data: Data)] = []
        for (key, value) in top {
            guard let encoded = value as? EncodedJSON else { continue }
            let placeholder = "vppsim-encoded-\(UUID().uuidString)"
            top[key] = placeholder
            spliced.append((Data("\"\(placeholder)\"".utf8), encoded.data))
        }
        var data = try JSONSerialization.data(withJSONObject: top, options: options)
        for (placeholder, encoded) in spliced {
            guard let range = data.range(of: placeholder) else { continue }
            data.replaceSubrange(range, with: encoded)
        }
        return data
    }
}
