import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOFoundationCompat
import Testing
import VPPComposition
import VPPDomain
import VPPHTTPAPI
import VPPTestSupport
import VPPUseCases

/// The REST API on a real port over a `World` (simulator + real store), with API keys of each role.
struct APIBench: Sendable {
    let world: World
    let baseURL: String
    let adminKey: String
    let readerKey: String
    /// A key of another tenant, to prove isolation.
    let strangerKey: String
    /// An `mdm-admin` key of the main tenant (manages API keys).
    let ownerKey: String
    /// The port, for raw-socket tests.
    let port: Int

    struct Answer: Sendable {
        let status: Int
        let contentType: String?
        let body: Data
        var json: Any? { try? JSONSerialization.jsonObject(with: body) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
        var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
        var errorMessage: String { (object["error"] as? [String: Any])?["message"] as? String ?? "" }
        var requestID: String?
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func call(
        _ method: String,
        _ path: String,
        key: String? = nil,
        json: [String: Any]? = nil,
        raw: Data? = nil,
        headers: [String: String] = [:]
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .init(rawValue: method)
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json)))
        } else if let raw {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: raw))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 16 << 20)
        return Answer(
            status: Int(response.status.code),
            contentType: response.headers.first(name: "Content-Type"),
            body: Data(buffer: body),
            requestID: response.headers.first(name: "X-Request-ID")
        )
    }
}

/// Runs `body` against the app vppd serves (built by `VPPServer.application`) on a free port.
/// `outbound` replaces the tests' allow-list (loopback) for the app, for the suites that check refusals.
func withAPI<T: Sendable>(
    _ kind: StoreKind,
    bounds: ServerBounds = ServerBounds(),
    outbound: OutboundPolicy? = nil,
    _ body: @Sendable (APIBench) async throws -> T
) async throws -> T {
    try await withWorld(kind) { world in
        let administration = world.useCases.tenantAdministration
        let admin = try await administration.createAPIKey(
            .system(world.tenant.id),
            name: "admin",
            role: .applicationManagementFullControl
        ).key
        let reader = try await administration.createAPIKey(.system(world.tenant.id), name: "reader", role: .readOnly)
            .key
        let other = try await administration.createTenant(name: "Other District", hostname: "other")
        let stranger = try await administration.createAPIKey(.system(other.id), name: "stranger", role: .mdmAdmin).key
        let owner = try await world.useCases.manageAPIKeys.create(
            .system(world.tenant.id),
            name: "owner",
            role: .mdmAdmin
        ).key
        // The same composition function as vppd's main (API, console, bounds), over the world's use cases.
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        var settings = world.settings
        if let outbound { settings.outboundPolicy = outbound }
        // The parallel lane runs ~240 tests on two cores: a 10 s deadline turned slow requests into 503s there.
        // The deadline's behaviour has suites of its own (RequestDeadlineTests, DatabaseOutageTests).
        var hooks = APIHooks(ready: { .success(5) })
        hooks.requestDeadline = .seconds(60)
        let app = try await VPPServer.application(
            VPPServer.Parts(
                useCases: outbound == nil ? world.useCases : world.useCases(settings: settings),
                hooks: hooks,
                bounds: bounds,
                onServerRunning: { port in
                    continuation.yield(port)
                    continuation.finish()
                },
                logger: world.ports.logger
            )
        )
        let task = Task { try await app.run() }
        var iterator = stream.makeAsyncIterator()
        let port = await iterator.next() ?? 0
        let bench = APIBench(
            world: world,
            baseURL: "http://127.0.0.1:\(port)",
            adminKey: admin,
            readerKey: reader,
            strangerKey: stranger,
            ownerKey: owner,
            port: port
        )
        do {
            let result = try await body(bench)
            task.cancel()
            _ = await task.result
            return result
        } catch {
            task.cancel()
            _ = await task.result
            throw error
        }
    }
}

extension APIBench {
    /// Uploads a token of a location that owns Keynote, syncs it and adds `serials` as devices, through the API;
    /// returns the token's id.
    @discardableResult
    func syncedToken(devices serials: [String]) async throws -> String {
        let (file, _) = try await world.location("Main Campus", assets: [keynoteSim])
        let upload = try await call(
            "POST",
            "/v1/tokens",
            key: adminKey,
            json: ["token": String(decoding: file, as: UTF8.self)]
        )
        let id = try #require((upload.object["token"] as? [String: Any])?["id"] as? String)
        #expect(try await call("POST", "/v1/tokens/\(id)/sync", key: adminKey).status == 200)
        let added = try await call(
            "POST",
            "/v1/devices",
            key: adminKey,
            json: ["devices": serials.map { ["serialNumber": $0] }]
        )
        #expect(added.status == 201, "\(added.text)")
        return id
    }
}
