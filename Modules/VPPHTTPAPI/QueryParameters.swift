import Foundation
import Hummingbird

/// A query parameter whose value is not one of the values it allows, or a parameter the route does not
/// take. Answered 400 naming the parameter and the values allowed: a value we do not recognise is never
/// read as a default (`dryRun=TRUE` once removed a token because it was not exactly `true`).
struct BadQueryParameter: Error, Hashable, Sendable, CustomStringConvertible {
    let name: String
    let value: String
    let allowed: [String]

    var description: String {
        let shown = value.count > 40 ? String(value.prefix(40)) + "…" : value
        if allowed.isEmpty {
            return "Unknown query parameter \"\(name.prefix(40))\"; this operation takes none of that name."
        }
        return "Query parameter \"\(name)\" must be one of \(allowed.joined(separator: ", ")) (got \"\(shown)\")."
    }
}

/// Strict readers of query parameters: booleans are exactly `true` or `false`, enums exactly one of
/// their raw values, each parameter at most once, and no parameter the route does not declare.
struct QueryParameters {
    let request: Request
    /// The names this route declares (anything else is refused).
    let declared: Set<String>

    init(_ request: Request, declared: Set<String>) throws {
        self.request = request
        self.declared = declared
        for parameter in request.uri.queryParameters where !declared.contains("\(parameter.key)") {
            throw BadQueryParameter(name: "\(parameter.key)", value: "\(parameter.value)", allowed: [])
        }
    }

    /// The single value of `name`, or `nil` when absent; a repeated parameter is refused.
    func single(_ name: String, allowed: [String]) throws -> String? {
        let values = request.uri.queryParameters.getAll(name)
        guard values.count <= 1 else {
            throw BadQueryParameter(name: name, value: values.joined(separator: ","), allowed: allowed)
        }
        return values.first.map { "\($0)" }
    }

    /// `true` or `false` exactly; anything else (`TRUE`, `1`, `yes`, `on`, empty) is a 400.
    func bool(_ name: String) throws -> Bool? {
        let allowed = ["true", "false"]
        guard let value = try single(name, allowed: allowed) else { return nil }
        switch value {
        case "true": return true
        case "false": return false
        default: throw BadQueryParameter(name: name, value: value, allowed: allowed)
        }
    }

    /// One of `E`'s raw values exactly.
    func value<E: RawRepresentable & CaseIterable>(_ name: String, as type: E.Type) throws -> E?
    where E.RawValue == String {
        let allowed = E.allCases.map(\.rawValue)
        guard let value = try single(name, allowed: allowed) else { return nil }
        guard let parsed = E(rawValue: value) else {
            throw BadQueryParameter(name: name, value: value, allowed: allowed)
        }
        return parsed
    }
}

/// `format` of a report.
enum ReportFormat: String, CaseIterable {
    case json
    case csv
}
