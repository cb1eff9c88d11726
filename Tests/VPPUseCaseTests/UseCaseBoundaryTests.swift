import Foundation
import Testing

/// Guards on the use-case layer's source, so the shape this layer was given does not erode: use cases take the
/// ports they use and are built once by the composition root (no edge builds one), read no JSON (edges decode),
/// and their own errors name no face's commands.
@Suite("Use-case layer boundaries")
struct UseCaseBoundaryTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Modules/VPPUseCases")

    /// Every Swift file of the layer, by path relative to it, with its code lines (comments dropped).
    static func sources() throws -> [(path: String, code: [Substring])] {
        let files = try #require(FileManager.default.enumerator(atPath: root.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") }.sorted()
        #expect(files.count > 50, "found the layer's sources")
        return try files.map { path in
            let text = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
            let code = text.split(separator: "\n").filter {
                !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//")
            }
            return (path, code)
        }
    }

    @Test("the use-case layer holds no composition: no bag of ports, no initialiser from one")
    func noServicesBag() throws {
        let naming = try Self.sources().filter {
            $0.code.contains { $0.contains("VPPServices") || $0.contains("init(services:") }
        }.map(\.path)
        #expect(naming.isEmpty, "\(naming)")
    }

    /// The repository's root.
    static let repository = root.deletingLastPathComponent().deletingLastPathComponent()

    /// The code lines (comments dropped) of every Swift file under `folder`, by path relative to the repository.
    static func code(under folder: String) throws -> [(path: String, code: [Substring])] {
        let base = repository.appendingPathComponent(folder)
        let files = try #require(FileManager.default.enumerator(atPath: base.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") }.sorted()
        return try files.map { path in
            let text = try String(contentsOf: base.appendingPathComponent(path), encoding: .utf8)
            return (
                "\(folder)/\(path)",
                text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }
            )
        }
    }

    @Test("use cases are built once, by the composition root: no edge builds one, nothing says init(services:)")
    func builtOnce() throws {
        // The types the composition root builds, from its `public let name: Type` lines.
        let wiring = try String(
            contentsOf: Self.repository.appendingPathComponent("Modules/VPPComposition/UseCases.swift"),
            encoding: .utf8
        )
        let built = Set(
            wiring.split(separator: "\n").compactMap { line -> String? in
                let text = line.trimmingCharacters(in: .whitespaces)
                guard text.hasPrefix("public let "), let colon = text.firstIndex(of: ":") else { return nil }
                return text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    .replacingOccurrences(of: "?", with: "")
            }
        )
        #expect(built.contains("AssignLicences") && built.count > 40, "read the wiring: \(built.count) types")
        // The edges receive instances: an HTTP route, a console page, a worker or a command that calls a use case's
        // initialiser would build it per request (or per tick).
        var building: [String] = []
        for folder in ["Modules/VPPHTTPAPI", "Modules/VPPConsole", "Apps/vppd", "Apps/vppctl"] {
            for (path, code) in try Self.code(under: folder) {
                for line in code {
                    for type in built {
                        var rest = line[...]
                        while let range = rest.range(of: type + "(") {
                            let before =
                                range.lowerBound == line.startIndex ? nil : line[line.index(before: range.lowerBound)]
                            if !(before?.isLetter ?? false) && before != "." { building.append("\(path): \(type)") }
                            rest = line[range.upperBound...]
                        }
                    }
                }
            }
        }
        #expect(building.isEmpty, "\(building)")
        let bag = try (Self.code(under: "Modules") + Self.code(under: "Apps")).filter {
            $0.code.contains { $0.contains("(services:") || $0.contains("VPPServices") }
        }.map(\.path)
        #expect(bag.isEmpty, "\(bag)")
    }

    @Test("the use-case layer parses no JSON by hand (payloads arrive as typed values)")
    func noHandParsedJSON() throws {
        let parsing = try Self.sources().filter { $0.code.contains { $0.contains("JSONSerialization") } }.map(\.path)
        #expect(parsing.isEmpty)
    }

    @Test("use-case error texts name no CLI command or flag")
    func neutralErrorTexts() throws {
        let worded = try Self.sources().filter {
            $0.path.hasSuffix("UseCaseError.swift") || $0.path.hasSuffix("Reports.swift")
        }
        #expect(worded.count == 2)
        for (path, code) in worded {
            let cli = code.filter { $0.contains("`") || $0.contains(" --") || $0.contains("vppctl") }
            #expect(cli.isEmpty, "\(path): \(cli)")
        }
    }
}
