import Foundation

/// JSON text for the few list-valued columns (platforms, recipients, installed apps).
enum JSONList {
    static func encode(_ list: [String]) -> SQLValue {
        .text(String(decoding: (try? JSONEncoder().encode(list)) ?? Data("[]".utf8), as: UTF8.self))
    }

    static func decode(_ text: String?) -> [String] {
        guard let text, let list = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else { return [] }
        return list
    }
}
