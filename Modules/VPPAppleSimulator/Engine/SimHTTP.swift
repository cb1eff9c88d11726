import Foundation

/// A request as the simulator's engine sees it, independent of the HTTP server library.
public struct SimRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [String: String]
    public var headers: [String: String]
    public var body: Data

    public init(
        method: String,
        path: String,
        query: [String: String] = [:],
        headers: [String: String] = [:],
        body: Data = Data()
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = Dictionary(uniqueKeysWithValues: headers.map { ($0.key.lowercased(), $0.value) })
        self.body = body
    }

    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// The engine's answer, with how the transport should misbehave (fault injection).
public struct SimResponse: Sendable {
    public enum Delivery: Sendable, Equatable {
        case normal
        /// Send only the first half of the body, then close the connection.
        case connectionReset
    }

    public var status: Int
    public var headers: [String: String]
    public var body: Data
    public var delivery: Delivery = .normal

    static func json(_ status: Int, _ object: Any, headers: [String: String] = [:]) -> SimResponse {
        let data =
            (try? EncodedJSON.serialize(object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        var allHeaders = headers
        allHeaders["Content-Type"] = "application/json"
        return SimResponse(status: status, headers: allHeaders, body: data)
    }

    /// Apple's error body `{errorNumber, errorMessage}` with the status Apple's table gives it.
    static func appleError(
        _ number: Int,
        _ message: String,
        status: Int,
        headers: [String: String] = [:]
    ) -> SimResponse {
        json(status, ["errorNumber": number, "errorMessage": message], headers: headers)
    }
}

/// A handler's outcome inside the actor: a JSON object to complete with the envelope, or a finished error.
enum Answer {
    case ok([String: Any])
    case error(SimResponse)
}
