import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import VPPDomain
import VPPUseCases

/// App metadata from Apple's legacy `contentMetadataLookup` service (the URL `service/config` gives),
/// which the simulator also serves.
///
/// `GET …/lookup?version=2&id=a,b&p=mdm-lockup&caller=MDM&platform=enterprisestore&cc=us&l=en`, with
/// `Cookie: itvt=<sToken>` so custom (B2B) apps are visible.
public struct LegacyContentMetadataLookup: AppMetadataLookup {
    let apple: HTTPAppleAppsAndBooksClient
    let httpClient: HTTPClient
    /// Apple's lookup accepts a bounded number of ids per request.
    let idsPerRequest: Int

    public init(
        apple: HTTPAppleAppsAndBooksClient,
        httpClient: HTTPClient = AppleHTTPClient.shared,
        idsPerRequest: Int = 100
    ) {
        self.apple = apple
        self.httpClient = httpClient
        self.idsPerRequest = idsPerRequest
    }

    struct WireLookup: Decodable {
        let results: [String: WireLookupItem]?
    }

    struct WireLookupItem: Decodable {
        let name: String?
        let bundleId: String?
        let artwork: WireArtwork?
        let offers: [WireOffer]?
    }

    struct WireArtwork: Decodable { let url: String? }
    struct WireOffer: Decodable { let version: WireVersion? }
    struct WireVersion: Decodable { let display: String? }

    public func metadata(
        adamIDs: [String],
        countryCode: String,
        credentials: AppleCredentials?
    ) async throws -> [String: AppMetadata] {
        guard let base = try await apple.serviceLimits().contentMetadataLookupURL else { return [:] }
        var result: [String: AppMetadata] = [:]
        for chunk in chunked(Array(Set(adamIDs)).sorted(), by: idsPerRequest) {
            var components = URLComponents(string: base)
            components?.queryItems = [
                URLQueryItem(name: "version", value: "2"),
                URLQueryItem(name: "id", value: chunk.joined(separator: ",")),
                URLQueryItem(name: "p", value: "mdm-lockup"), URLQueryItem(name: "caller", value: "MDM"),
                URLQueryItem(name: "platform", value: "enterprisestore"),
                URLQueryItem(name: "cc", value: countryCode.lowercased()),
                URLQueryItem(name: "l", value: "en"),
            ]
            guard let url = components?.string else { throw AppleAPIError.transport("bad lookup URL") }
            var request = HTTPClientRequest(url: url)
            if let credentials {
                request.headers.add(name: "Cookie", value: "itvt=\(credentials.token.revealForTransport())")
            }
            let body: ByteBuffer
            do {
                let response = try await httpClient.execute(request, timeout: .seconds(30))
                guard response.status.code == 200 else {
                    throw AppleAPIError.httpStatus(Int(response.status.code), excerpt: "metadata lookup")
                }
                body = try await response.body.collect(upTo: 4 * 1024 * 1024)
            } catch let error as AppleAPIError {
                throw error
            } catch {
                throw AppleAPIError.transport(String(describing: error).prefix(200).description)
            }
            guard let wire = try? JSONDecoder().decode(WireLookup.self, from: Data(buffer: body)) else {
                throw AppleAPIError.malformedResponse(
                    status: 200,
                    excerpt: String(buffer: body).prefix(200).description
                )
            }
            for (adamID, item) in wire.results ?? [:] {
                guard let name = item.name else { continue }
                let icon = item.artwork?.url?
                    .replacingOccurrences(of: "{w}", with: "512").replacingOccurrences(of: "{h}", with: "512")
                    .replacingOccurrences(of: "{f}", with: "png")
                result[adamID] = AppMetadata(
                    name: name,
                    bundleID: item.bundleId,
                    iconURL: icon.flatMap(URL.init(string:)),
                    version: item.offers?.first?.version?.display?.trimmingCharacters(in: .whitespaces)
                )
            }
        }
        return result
    }
}
