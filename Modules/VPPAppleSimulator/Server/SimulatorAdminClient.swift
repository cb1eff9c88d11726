import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

/// Talks to a running simulator's admin API (`/sim/…`): used by `vppsim`'s subcommands and the benchmarks.
public struct SimulatorAdminClient: Sendable {
    public let rootURL: String

    public init(rootURL: String) { self.rootURL = rootURL }

    public struct Refused: Error, CustomStringConvertible {
        public let description: String
    }

    /// Sends one admin request and returns the body; a non-2xx answer throws with the simulator's text.
    public func call(_ method: String, _ path: String, json: [String: Any]? = nil) async throws -> Data {
        var request = HTTPClientRequest(url: rootURL + path)
        request.method = .init(rawValue: method)
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
        let body = Data(buffer: try await response.body.collect(upTo: 64 << 20))
        guard (200..<300).contains(Int(response.status.code)) else {
            throw Refused(
                description:
                    "simulator \(method) \(path) answered \(response.status.code): "
                    + "\(String(decoding: body.prefix(300), as: UTF8.self))"
            )
        }
        return body
    }
}
