import Foundation

/// A submitted form: URL-encoded fields, or `multipart/form-data` fields and files (token uploads).
struct ConsoleForm: Sendable {
    /// Every value of each field, in order (checkbox groups repeat a name).
    private(set) var fields: [String: [String]] = [:]
    /// Uploaded files by field name: their bytes (empty when the admin picked no file).
    private(set) var files: [String: Data] = [:]

    subscript(_ name: String) -> String? { fields[name]?.first }

    func all(_ name: String) -> [String] { fields[name] ?? [] }

    /// Whether a checkbox was ticked.
    func flag(_ name: String) -> Bool { self[name].map { !$0.isEmpty } ?? false }

    /// Parses `body` by its content type; an unknown type gives an empty form (whose CSRF check then fails).
    init(contentType: String?, body: Data) {
        let type = contentType?.lowercased() ?? ""
        if type.hasPrefix("application/x-www-form-urlencoded") {
            fields = Self.urlEncoded(String(decoding: body, as: UTF8.self))
        } else if type.hasPrefix("multipart/form-data"), let boundary = Self.boundary(contentType ?? "") {
            parseMultipart(Array(body), boundary: Array("--\(boundary)".utf8))
        }
    }

    static func urlEncoded(_ text: String) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            result[decode(parts[0]), default: []].append(parts.count > 1 ? decode(parts[1]) : "")
        }
        return result
    }

    static func boundary(_ contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    /// RFC 7578: parts between `--boundary` lines, each with headers, a blank line and the content.
    private mutating func parseMultipart(_ body: [UInt8], boundary: [UInt8]) {
        var starts: [Int] = []
        var index = 0
        while let found = Self.find(boundary, in: body, from: index) {
            starts.append(found)
            index = found + boundary.count
        }
        for (start, end) in zip(starts, starts.dropFirst()) {
            var partStart = start + boundary.count
            if body.count >= partStart + 2, body[partStart] == 13, body[partStart + 1] == 10 { partStart += 2 }
            var partEnd = end
            if partEnd - 2 >= partStart, body[partEnd - 2] == 13, body[partEnd - 1] == 10 { partEnd -= 2 }
            guard partStart < partEnd, let split = Self.find(Array("\r\n\r\n".utf8), in: body, from: partStart),
                split < partEnd
            else { continue }
            let headers = String(decoding: body[partStart..<split], as: UTF8.self)
            let content = Data(body[(split + 4)..<partEnd])
            guard
                let disposition = headers.split(separator: "\r\n").first(where: {
                    $0.lowercased().hasPrefix("content-disposition")
                }),
                let name = Self.parameter("name", in: String(disposition))
            else { continue }
            if Self.parameter("filename", in: String(disposition)) != nil {
                files[name] = content
            } else {
                fields[name, default: []].append(String(decoding: content, as: UTF8.self))
            }
        }
    }

    static func parameter(_ name: String, in header: String) -> String? {
        for item in header.split(separator: ";").dropFirst() {
            let pair = item.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0].lowercased() == name {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else {
            return nil
        }
        var i = start
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == needle[0], Array(haystack[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }
}
