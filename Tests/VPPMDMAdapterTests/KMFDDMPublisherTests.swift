import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization
import Testing
import VPPDomain
import VPPKMFDDM
import VPPNanoMDM
import VPPUseCases

/// The KMFDDM adapter over real HTTP against a small stand-in that keeps KMFDDM's model (declarations, sets of
/// declarations, sets of each enrollment) and checks what its API documents: the paths, the query parameters,
/// Basic `kmfddm:<key>`, a JSON declaration with `Identifier` and `ServerToken`.
@Suite("KMFDDM declaration publisher over real HTTP")
struct KMFDDMPublisherTests {
    static let logger: Logger = {
        var l = Logger(label: "test")
        l.logLevel = .critical
        return l
    }()

    struct State {
        var declarations: [String: [String: Any]] = [:]
        var setDeclarations: [String: Set<String>] = [:]
        var enrollmentSets: [String: Set<String>] = [:]
        var requests: [String] = []
    }

    final class KMFDDM: Sendable {
        let state = Mutex(State())
        let key: String
        init(key: String) { self.key = key }

        func handle(_ request: Request, body: Data) -> HTTPResponse.Status {
            let expected = "Basic " + Data("kmfddm:\(key)".utf8).base64EncodedString()
            let path = request.uri.path
            let query = request.uri.queryParameters
            return state.withLock { state -> HTTPResponse.Status in
                state.requests.append("\(request.method) \(request.uri)")
                guard request.headers[.authorization] == expected else { return .unauthorized }
                let parts = path.split(separator: "/").map { $0.removingPercentEncoding ?? String($0) }
                switch (request.method, parts.count > 1 ? parts[1] : "") {
                case (.put, "declarations"):
                    guard let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
                        let id = json["Identifier"] as? String, json["ServerToken"] is String, json["Type"] is String
                    else { return .badRequest }
                    let unchanged =
                        (state.declarations[id]?["ServerToken"] as? String) == json["ServerToken"] as? String
                    state.declarations[id] = json
                    return unchanged ? .notModified : .noContent
                case (.put, "set-declarations"):
                    guard parts.count == 3, let declaration = query["declaration"].map(String.init),
                        state.declarations[declaration] != nil
                    else { return .badRequest }
                    return state.setDeclarations[parts[2], default: []].insert(declaration).inserted
                        ? .noContent : .notModified
                case (.put, "enrollment-sets"), (.delete, "enrollment-sets"):
                    guard parts.count == 3, let set = query["set"].map(String.init) else { return .badRequest }
                    if request.method == .put {
                        state.enrollmentSets[parts[2], default: []].insert(set)
                    } else {
                        state.enrollmentSets[parts[2]]?.remove(set)
                    }
                    return .noContent
                default:
                    return .notFound
                }
            }
        }
    }

    static func withKMFDDM(_ body: (String, KMFDDM) async throws -> Void) async throws {
        let server = KMFDDM(key: "ddm-key")
        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            var request = request
            let data = Data(buffer: try await request.collectBody(upTo: 1 << 20))
            return Response(status: server.handle(request, body: data))
        }
        for path in ["/v1/declarations", "/v1/set-declarations/{set}", "/v1/enrollment-sets/{id}"] {
            router.put(RouterPath(path), use: handler)
            router.delete(RouterPath(path), use: handler)
        }
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: {
                continuation.yield($0.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        let task = Task { try await app.run() }
        var iterator = stream.makeAsyncIterator()
        let port = try #require(await iterator.next())
        do {
            try await body("http://127.0.0.1:\(port)", server)
            task.cancel()
        } catch {
            task.cancel()
            throw error
        }
    }

    @Test("publish puts the declaration and its set; an enrollment joins and leaves; a re-publish is idempotent")
    func publishJoinLeave() async throws {
        try await Self.withKMFDDM { url, server in
            let publisher = KMFDDMPublisher(url: url + "/", apiKey: "ddm-key", client: MDMHTTPClient.shared)
            let declaration = try ManagedAppDeclaration(asset: AssetKey(adamID: "361285480"), assignment: .device)
            let set = declaration.identifier
            let document = try declaration.document(publication: 0)
            #expect(await publisher.publish(document, identifier: declaration.identifier, set: set) == .delivered)
            #expect(await publisher.publish(document, identifier: declaration.identifier, set: set) == .delivered)
            let udid = "00008030-001A35E11A88003A"
            #expect(await publisher.setMembership(enrollmentID: udid, set: set, member: true) == .delivered)
            var state = server.state.withLock { $0 }
            #expect(state.declarations[set]?["ServerToken"] as? String == declaration.serverToken(publication: 0))
            #expect(state.declarations[set]?["Type"] as? String == "com.apple.configuration.app.managed")
            #expect(state.setDeclarations[set] == [declaration.identifier])
            #expect(state.enrollmentSets[udid] == [set])
            #expect(
                state.requests.contains(
                    "PUT /v1/set-declarations/vpp.app.361285480.STDQ.device?declaration=vpp.app.361285480.STDQ.device"
                )
            )
            #expect(state.requests.contains("PUT /v1/enrollment-sets/\(udid)?set=\(set)"))

            // A re-publish (new ServerToken) replaces the declaration in place.
            let again = try declaration.document(publication: 1)
            #expect(await publisher.publish(again, identifier: declaration.identifier, set: set) == .delivered)
            #expect(await publisher.setMembership(enrollmentID: udid, set: set, member: false) == .delivered)
            state = server.state.withLock { $0 }
            #expect(state.declarations[set]?["ServerToken"] as? String == declaration.serverToken(publication: 1))
            #expect(state.enrollmentSets[udid]?.isEmpty == true)
            #expect(state.requests.last == "DELETE /v1/enrollment-sets/\(udid)?set=\(set)")
        }
    }

    @Test("a wrong key and an unreachable server are retried; a malformed enrollment id is never sent")
    func failures() async throws {
        try await Self.withKMFDDM { url, server in
            let wrong = KMFDDMPublisher(url: url, apiKey: "other", client: MDMHTTPClient.shared)
            guard case .retry(let reason, _) = await wrong.setMembership(enrollmentID: "UDID-1", set: "s", member: true)
            else {
                Issue.record("a refused key counted as done")
                return
            }
            #expect(reason.contains("401"))
            let before = server.state.withLock { $0.requests.count }
            let right = KMFDDMPublisher(url: url, apiKey: "ddm-key", client: MDMHTTPClient.shared)
            guard case .refused = await right.setMembership(enrollmentID: "../../admin", set: "s", member: true) else {
                Issue.record("a malformed id was not refused")
                return
            }
            #expect(server.state.withLock { $0.requests.count } == before, "nothing sent for it")
            let nowhere = KMFDDMPublisher(url: "http://127.0.0.1:9", apiKey: "k", client: MDMHTTPClient.shared)
            guard case .retry = await nowhere.setMembership(enrollmentID: "UDID-1", set: "s", member: true) else {
                Issue.record("unreachable counted as done")
                return
            }
        }
    }
}
