import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Puts an ``AppleSimulator`` on a real HTTP port.
public struct SimulatorServer: Sendable {
    public let simulator: AppleSimulator
    let logger: Logger

    public init(simulator: AppleSimulator, logger: Logger = Logger(label: "vppsim")) {
        self.simulator = simulator
        self.logger = logger
    }

    /// Builds the Hummingbird application; `onRunning` receives the bound port.
    func makeApplication(
        host: String,
        port: Int,
        onRunning: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let responder = SimulatorResponder(simulator: simulator, logger: logger)
        return Application(
            responder: responder,
            configuration: .init(address: .hostname(host, port: port), serverName: "vppsim"),
            onServerRunning: { channel in
                let boundPort = channel.localAddress?.port ?? port
                await simulator.setPublicBaseURL("http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(boundPort)")
                await onRunning(boundPort)
            },
            logger: logger
        )
    }

    /// Runs until SIGINT/SIGTERM (the `vppsim serve` entry point).
    public func run(host: String, port: Int, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws
    {
        try await makeApplication(host: host, port: port, onRunning: onRunning).runService()
    }

    /// Starts on 127.0.0.1 and a free port, for tests, demos and benchmarks; stop it with ``RunningSimulator/stop()``.
    public func start(host: String = "127.0.0.1", port: Int = 0) async throws -> RunningSimulator {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = makeApplication(host: host, port: port) {
            continuation.yield($0)
            continuation.finish()
        }
        let task = Task { try await app.run() }
        var iterator = stream.makeAsyncIterator()
        guard let boundPort = await iterator.next() else {
            task.cancel()
            throw SimAdminError("the simulator did not start")
        }
        return RunningSimulator(simulator: simulator, port: boundPort, host: host, task: task)
    }
}

/// A simulator serving on a port.
public struct RunningSimulator: Sendable {
    public let simulator: AppleSimulator
    public let port: Int
    public let host: String
    let task: Task<Void, any Error>

    /// Apple's v2 base URL on this simulator, e.g. `http://127.0.0.1:51234/mdm/v2`.
    public var appleBaseURL: String { "http://\(host):\(port)/mdm/v2" }
    /// The server root, e.g. for the admin API under `/sim/`.
    public var rootURL: String { "http://\(host):\(port)" }

    public func stop() async {
        task.cancel()
        _ = await task.result
    }
}

/// Translates Hummingbird requests to the engine's and back, logging each request without its bearer.
struct SimulatorResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let simulator: AppleSimulator
    let logger: Logger

    func respond(to request: Request, context: Context) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 16 * 1024 * 1024)
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters {
            query[String(key)] = String(value).removingPercentEncoding ?? String(value)
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let simRequest = SimRequest(
            method: request.method.rawValue,
            path: request.uri.path,
            query: query,
            headers: headers,
            body: Data(buffer: body)
        )
        let answer = await simulator.handle(simRequest)
        // The bearer is never logged: only method, path and status.
        logger.info("\(request.method.rawValue) \(request.uri.path) -> \(answer.status)")
        var fields = HTTPFields()
        for (name, value) in answer.headers {
            if let fieldName = HTTPField.Name(name) { fields[fieldName] = value }
        }
        let status = HTTPResponse.Status(code: answer.status)
        switch answer.delivery {
        case .normal:
            return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
        case .connectionReset:
            let half = ByteBuffer(bytes: answer.body.prefix(answer.body.count / 2))
            return Response(
                status: status,
                headers: fields,
                body: .init(contentLength: answer.body.count) { writer in
                    try await writer.write(half)
                    throw SimAdminError("connection reset by fault injection")
                }
            )
        }
    }
}
