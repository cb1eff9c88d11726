import Foundation

/// A type the API reads or writes as JSON, with the JSON Schema (2020-12, OpenAPI 3.1's dialect) of its
/// encoding declared next to it. The OpenAPI document's `components.schemas` is built from these, and a
/// test encodes values of every declared type and validates them against the declared schema.
public protocol APISchema {
    /// The schema of this type's JSON encoding.
    static var schema: JSONSchema { get }
    /// Its name under `components.schemas` (stable within /v1).
    static var schemaName: String { get }
}

extension APISchema {
    public static var schemaName: String { String(describing: Self.self) }
}

/// A JSON Schema, built from the few keywords the API needs. Named types are referenced (`$ref`), so a
/// type's schema is written once, where the type is.
public struct JSONSchema: Sendable {
    /// A keyword's value; `reference` stays symbolic until the document is rendered.
    indirect enum Node: Sendable {
        case text(String)
        case number(Int)
        case flag(Bool)
        case list([Node])
        case object([String: Node])
        case reference(name: String, schema: @Sendable () -> JSONSchema)
    }

    var keywords: [String: Node]

    init(_ keywords: [String: Node]) { self.keywords = keywords }

    // MARK: Scalars

    /// A string, optionally with a format (`uuid`, `date-time`), a pattern and length bounds.
    public static func string(
        format: String? = nil,
        pattern: String? = nil,
        minLength: Int? = nil,
        maxLength: Int? = nil
    ) -> JSONSchema {
        var keywords: [String: Node] = ["type": .text("string")]
        if let format { keywords["format"] = .text(format) }
        if let pattern { keywords["pattern"] = .text(pattern) }
        if let minLength { keywords["minLength"] = .number(minLength) }
        if let maxLength { keywords["maxLength"] = .number(maxLength) }
        return JSONSchema(keywords)
    }

    /// Any string.
    public static var string: JSONSchema { string() }
    /// An RFC 3339 time.
    public static var dateTime: JSONSchema { string(format: "date-time") }
    /// A UUID.
    public static var uuid: JSONSchema { string(format: "uuid") }
    /// `true` or `false`.
    public static var boolean: JSONSchema { JSONSchema(["type": .text("boolean")]) }

    /// An integer within optional bounds.
    public static func integer(minimum: Int? = nil, maximum: Int? = nil, default value: Int? = nil) -> JSONSchema {
        var keywords: [String: Node] = ["type": .text("integer")]
        if let minimum { keywords["minimum"] = .number(minimum) }
        if let maximum { keywords["maximum"] = .number(maximum) }
        if let value { keywords["default"] = .number(value) }
        return JSONSchema(keywords)
    }

    /// Any integer.
    public static var integer: JSONSchema { integer() }

    /// One of the given strings exactly.
    public static func oneOf(_ values: [String]) -> JSONSchema {
        JSONSchema(["type": .text("string"), "enum": .list(values.map(Node.text))])
    }

    /// One of an enum's raw values exactly.
    public static func oneOf<E: CaseIterable & RawRepresentable>(_ type: E.Type) -> JSONSchema
    where E.RawValue == String {
        oneOf(E.allCases.map(\.rawValue))
    }

    // MARK: Structures

    /// An array of `items`.
    public static func array(
        _ items: JSONSchema,
        minItems: Int? = nil,
        maxItems: Int? = nil,
        unique: Bool = false
    ) -> JSONSchema {
        var keywords: [String: Node] = ["type": .text("array"), "items": .object(items.keywords)]
        if let minItems { keywords["minItems"] = .number(minItems) }
        if let maxItems { keywords["maxItems"] = .number(maxItems) }
        if unique { keywords["uniqueItems"] = .flag(true) }
        return JSONSchema(keywords)
    }

    /// An object with `required` fields that are always present and `optional` ones that are omitted when
    /// they have no value (the API never sends `null`).
    public static func object(
        _ required: [String: JSONSchema],
        optional: [String: JSONSchema] = [:]
    ) -> JSONSchema {
        var keywords: [String: Node] = [
            "type": .text("object"),
            "properties": .object(required.merging(optional) { first, _ in first }.mapValues { .object($0.keywords) }),
        ]
        if !required.isEmpty { keywords["required"] = .list(required.keys.sorted().map(Node.text)) }
        return JSONSchema(keywords)
    }

    /// An object whose every value is `values` (a map).
    public static func map(_ values: JSONSchema) -> JSONSchema {
        JSONSchema(["type": .text("object"), "additionalProperties": .object(values.keywords)])
    }

    /// Any JSON object.
    public static var anyObject: JSONSchema { JSONSchema(["type": .text("object")]) }

    /// A named type's schema, by reference.
    public static func ref<T: APISchema>(_ type: T.Type) -> JSONSchema {
        JSONSchema(["$ref": .reference(name: T.schemaName, schema: { T.schema })])
    }

    /// The same schema with a description for the reader.
    public func described(_ text: String) -> JSONSchema {
        var copy = self
        copy.keywords["description"] = .text(text)
        return copy
    }

    /// The same schema with an extra keyword (e.g. `anyOf`, `contentEncoding`).
    func with(_ keyword: String, _ value: Node) -> JSONSchema {
        var copy = self
        copy.keywords[keyword] = value
        return copy
    }

    // MARK: Rendering

    /// The schema as a JSON tree; every referenced type's schema is added to `components` once.
    func rendered(components: inout [String: Any]) -> [String: Any] {
        keywords.mapValues { Self.render($0, components: &components) }
    }

    static func render(_ node: Node, components: inout [String: Any]) -> Any {
        switch node {
        case .text(let text): return text
        case .number(let number): return number
        case .flag(let flag): return flag
        case .list(let items): return items.map { render($0, components: &components) }
        case .object(let fields): return fields.mapValues { render($0, components: &components) }
        case .reference(let name, let schema):
            if components[name] == nil {
                components[name] = [String: Any]()  // placed first, so a type that refers to itself terminates
                components[name] = schema().rendered(components: &components)
            }
            return "#/components/schemas/\(name)"
        }
    }
}
