import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// Renders page view models with the mustache templates shipped in this module's resources. Every
/// `{{value}}` is HTML-escaped by mustache; the templates never use the unescaped `{{{…}}}` form.
struct ConsoleRenderer: Sendable {
    let library: MustacheLibrary
    /// The static files (CSS, JS), read once at start.
    let statics: [String: (type: String, bytes: ByteBuffer)]

    static func load() async throws -> ConsoleRenderer {
        guard let root = Bundle.module.resourceURL else {
            throw ConsoleSetupError("the console's resources are missing")
        }
        let library = try await MustacheLibrary(directory: root.appendingPathComponent("Templates").path)
        var statics: [String: (String, ByteBuffer)] = [:]
        for (name, type) in [
            ("console.css", "text/css; charset=utf-8"), ("console.js", "text/javascript; charset=utf-8"),
        ] {
            let data = try Data(contentsOf: root.appendingPathComponent("Static").appendingPathComponent(name))
            statics[name] = (type, ByteBuffer(bytes: data))
        }
        return ConsoleRenderer(library: library, statics: statics)
    }

    /// The page `template` filled with `model`, as an HTML response.
    func page(_ template: String, _ model: Any, status: HTTPResponse.Status = .ok) -> Response {
        let html =
            library.render(model, withTemplate: template)
            ?? "<!doctype html><title>Error</title><p>Missing template \(template)."
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
    }
}

/// The console cannot start (its resources are missing from the build).
struct ConsoleSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
