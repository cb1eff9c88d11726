import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One KMFDDM server as vpp calls it: its base URL, HTTP Basic `kmfddm:<api key>` and the client and timeout of
/// every call. The publisher and the status reader share it, so both speak to KMFDDM the same way.
struct KMFDDMServer: Sendable {
    let base: String
    let authorization: String
    let client: HTTPClient
    let timeout: TimeAmount

    init(url: String, apiKey: String, client: HTTPClient, timeout: TimeAmount) {
        base = url.hasSuffix("/") ? String(url.dropLast()) : url
        authorization = "Basic " + Data("kmfddm:\(apiKey)".utf8).base64EncodedString()
        self.client = client
        self.timeout = timeout
    }

    /// A request to `path` (below the base URL, with its query), authorised.
    func request(_ method: HTTPMethod, _ path: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: authorization)
        return request
    }

    func execute(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        try await client.execute(request, timeout: timeout)
    }
}
