import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat

/// Puts an ``MDMSimulator`` on a real HTTP port: NanoMDM's `/v1/enqueue/{ids}`, KMFDDM's `/v1/declarations`,
/// `/v1/set-declarations`, `/v1/enrollment-sets`, … and the `/sim/…` admin API.
public struct MDMSimulatorServer: Sendable {
    public let simulator: MDMSimulator
    let logger: Logger

    public init(simulator: MDMSimulator, logger: Logger) {
        self.simulator = simulator
        self.logger = logger
    }

    struct EnrollBody: Decodable {
        let count: Int
        let serialPrefix: String?
        let productName: String?
    }

    struct ConfigBody: Decodable {
        let webhookURL: String?
        let hmacKey: String?
        let ackDelayMilliseconds: Int?
    }

    struct FaultBody: Decodable {
        let mode: String
        let delayMilliseconds: Int?
    }

    struct BehaviourBody: Decodable { let respond: String }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(data: data))
        )
    }

    static func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        do {
            return try JSONDecoder().decode(type, from: Data(buffer: body))
        } catch {
            throw HTTPError(.badRequest, message: "unreadable body: \(error)")
        }
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        let simulator = self.simulator
        // NanoMDM does not check the method; clients use PUT.
        for method in [HTTPRequest.Method.put, .post, .get] {
            router.on("/v1/enqueue/{ids}", method: method) { request, context in
                let ids = try context.parameters.require("ids").split(separator: ",").map {
                    String($0).removingPercentEncoding ?? String($0)
                }
                var request = request
                let body = try await request.collectBody(upTo: 1 << 20)
                let (status, result) = await simulator.enqueue(
                    ids: ids,
                    authorization: request.headers[.authorization],
                    body: Data(buffer: body)
                )
                return Response(
                    status: .init(code: status),
                    headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(data: result))
                )
            }
        }
        router.post("/sim/devices") { request, _ in
            let body = try await Self.decode(EnrollBody.self, request)
            guard (1...100_000).contains(body.count) else {
                throw HTTPError(.badRequest, message: "count must be 1 to 100000")
            }
            let started = ContinuousClock.now
            let made = await simulator.enroll(
                count: body.count,
                serialPrefix: body.serialPrefix ?? "SIM",
                productName: body.productName ?? "iPad13,4"
            )
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            struct Enrolled: Encodable {
                let devices: [MDMSimulator.SimDevice]
                let seconds: Double
            }
            return Self.json(Enrolled(devices: made, seconds: seconds), status: .created)
        }
        router.get("/sim/devices") { _, _ in Self.json(await simulator.allDevices()) }
        router.post("/sim/devices/{serial}/checkout") { _, context in
            let found = await simulator.checkOut(serial: try context.parameters.require("serial"))
            return Self.json(["checkedOut": found], status: found ? .ok : .notFound)
        }
        router.post("/sim/devices/{serial}/enroll") { _, context in
            let found = await simulator.reenroll(serial: try context.parameters.require("serial"))
            return Self.json(["enrolled": found], status: found ? .ok : .notFound)
        }
        router.put("/sim/config") { request, _ in
            let body = try await Self.decode(ConfigBody.self, request)
            await simulator.configure(
                webhookURL: body.webhookURL,
                hmacKey: body.hmacKey,
                ackDelayMilliseconds: body.ackDelayMilliseconds
            )
            return Self.json(["ok": true])
        }
        router.put("/sim/faults") { request, _ in
            let body = try await Self.decode(FaultBody.self, request)
            guard let fault = MDMSimulator.Fault(rawValue: body.mode) else {
                throw HTTPError(
                    .badRequest,
                    message: "mode must be one of \(MDMSimulator.Fault.allCases.map(\.rawValue))"
                )
            }
            await simulator.setFault(fault, delayMilliseconds: body.delayMilliseconds ?? (fault == .slow ? 2000 : 0))
            return Self.json(["mode": fault.rawValue])
        }
        router.put("/sim/behaviour") { request, _ in
            let body = try await Self.decode(BehaviourBody.self, request)
            guard let behaviour = MDMSimulator.Behaviour(rawValue: body.respond) else {
                throw HTTPError(
                    .badRequest,
                    message: "respond must be one of \(MDMSimulator.Behaviour.allCases.map(\.rawValue))"
                )
            }
            await simulator.setBehaviour(behaviour)
            return Self.json(["respond": behaviour.rawValue])
        }
        router.get("/sim/stats") { _, _ in Self.json(await simulator.stats) }
        addDDMRoutes(router)
        return router
    }

    /// Starts on `host` and a free port, for tests and benchmarks; cancel the returned task to stop it.
    public func start(host: String = "127.0.0.1") async throws -> (port: Int, task: Task<Void, any Error>) {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router(),
            configuration: .init(address: .hostname(host, port: 0), serverName: "mdmsim"),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        let task = Task { try await app.run() }
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next() else {
            task.cancel()
            throw HTTPError(.internalServerError, message: "mdmsim did not start")
        }
        return (port, task)
    }

    /// Runs until SIGINT/SIGTERM; `onRunning` receives the bound port.
    public func run(host: String, port: Int, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws
    {
        let app = Application(
            router: router(),
            configuration: .init(address: .hostname(host, port: port), serverName: "mdmsim"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
        try await app.runService()
    }
}
