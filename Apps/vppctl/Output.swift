import Foundation

/// Prints rows as an aligned table, or as JSON with `--json`.
enum Output {
    /// - Parameter header: false for the rows of a later page (a streamed listing prints its header once).
    static func table(_ headers: [String], _ rows: [[String]], header: Bool = true) {
        guard !rows.isEmpty else {
            print("(none)")
            return
        }
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }
            .joined(separator: "  ")
        }
        if header {
            print(line(headers))
            print(line(widths.map { String(repeating: "-", count: $0) }))
        }
        for row in rows { print(line(row)) }
    }

    /// The API's representation of `value` (the same Encodable types and settings as the REST API's bodies),
    /// indented for reading.
    static func json(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// One value on one line (a streamed listing's item).
    static func compactJSON(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func date(_ date: Date) -> String { String(ISO8601DateFormatter().string(from: date).prefix(10)) }

    /// A one-line progress indicator on stderr when it is a terminal; silent otherwise.
    static func progress(_ message: String, done: Bool = false) {
        guard isatty(STDERR_FILENO) != 0 else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(message)\(done ? "\n" : "")".utf8))
    }
}
