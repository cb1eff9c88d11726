import Foundation
import Testing

/// Guards on the use-case layer's source, so the shape this layer was given does not erode: use cases take the
/// ports they use (the composition bag stays in the one wiring file), read no JSON (edges decode), and their
/// own errors name no face's commands.
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

    @Test("no use case sees the VPPServices bag: only its definition and the wiring file name it")
    func noServicesBag() throws {
        let naming = try Self.sources().filter { $0.code.contains { $0.contains("VPPServices") } }.map(\.path)
        #expect(naming == ["Context/VPPServices+UseCases.swift", "Context/VPPServices.swift"])
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
