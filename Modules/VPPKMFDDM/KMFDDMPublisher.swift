import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import VPPDomain
import VPPUseCases

/// Declarations to KMFDDM (jessepeterson/kmfddm; NanoHUB serves the same API under its own prefix), HTTP Basic
/// `kmfddm:<api key>`:
/// - `PUT {url}/v1/declarations` with the declaration's JSON;
/// - `PUT {url}/v1/set-declarations/{set}?declaration={id}`;
/// - `PUT|DELETE {url}/v1/enrollment-sets/{enrollmentId}?set={set}` (KMFDDM then tells the enrollment through
///   its MDM server to synchronise).
/// KMFDDM answers 204 for a change and 304 when nothing changed; both count as done.
public struct KMFDDMPublisher: DeclarationPublisher {
    let server: KMFDDMServer

    public init(url: String, apiKey: String, client: HTTPClient, timeout: TimeAmount = .seconds(15)) {
        server = KMFDDMServer(url: url, apiKey: apiKey, client: client, timeout: timeout)
    }

    public func publish(_ document: Data, identifier: String, set: String) async -> DeliveryOutcome {
        let stored = await send(.PUT, "/v1/declarations", body: document)
        guard stored == .delivered else { return stored }
        return await send(
            .PUT,
            "/v1/set-declarations/\(Self.segment(set))?declaration=\(Self.queryValue(identifier))",
            body: nil
        )
    }

    public func setMembership(enrollmentID: String, set: String, member: Bool) async -> DeliveryOutcome {
        // An id of another shape (stored before ids were checked on the way in) is never sent.
        guard let id = try? EnrollmentID(enrollmentID) else {
            return .refused("enrollment id \"\(enrollmentID.prefix(60))\" has not the documented shape")
        }
        return await send(
            member ? .PUT : .DELETE,
            "/v1/enrollment-sets/\(id.pathSegment)?set=\(Self.queryValue(set))",
            body: nil
        )
    }

    /// The two verbs KMFDDM's changes use.
    enum Verb: String { case PUT, DELETE }

    func send(_ method: Verb, _ path: String, body: Data?) async -> DeliveryOutcome {
        var request = server.request(method == .PUT ? .PUT : .DELETE, path)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: body))
        }
        do {
            let response = try await server.execute(request)
            let text = String(buffer: try await response.body.collect(upTo: 1 << 16))
            switch response.status.code {
            case 200..<300, 304:
                return .delivered
            case 400, 404, 422:
                return .refused(
                    "KMFDDM refused \(method.rawValue) \(path): HTTP \(response.status.code) \(text.prefix(200))"
                )
            case 401, 403:
                return .retry("KMFDDM refused the API key (HTTP \(response.status.code))")
            default:
                let retryAfter = response.headers.first(name: "Retry-After").flatMap(TimeInterval.init)
                return .retry("KMFDDM answered HTTP \(response.status.code)", after: retryAfter)
            }
        } catch {
            return .retry("KMFDDM unreachable: \(String(describing: error).prefix(200))")
        }
    }

    /// One path segment: vpp's set names are `vpp.app.<digits>.<STDQ|PLUS>.<device|user>`, encoded anyway.
    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? text
    }

    static func queryValue(_ text: String) -> String { segment(text) }
}
