import Foundation
import Hummingbird
import Logging
import Synchronization

/// A stand-in for a server vpp calls out to (an MDM server, a webhook receiver): on a real loopback port,
/// it answers every request `status` and records its method and raw path (as sent, before any decoding).
final class RecordingListener: Sendable {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
    }

    private let recorded: Lines
    let port: Int
    private let task: Task<Void, any Error>

    private init(recorded: Lines, port: Int, task: Task<Void, any Error>) {
        self.recorded = recorded
        self.port = port
        self.task = task
    }

    var url: String { "http://127.0.0.1:\(port)" }
    /// "METHOD /raw/path" of every request received, in order.
    var seen: [String] { recorded.lines.withLock { $0 } }

    /// `location`, when given, is sent as the `Location` header (a redirect with a 3xx `status`).
    static func start(status: HTTPResponse.Status = .ok, location: String? = nil) async throws -> RecordingListener {
        let recorded = Lines()
        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            recorded.lines.withLock { $0.append("\(request.method.rawValue) \(request.head.path ?? "")") }
            var headers = HTTPFields()
            if let location { headers[.location] = location }
            return Response(status: status, headers: headers, body: .init(byteBuffer: .init(string: "{}")))
        }
        for method in [HTTPRequest.Method.get, .put, .post, .delete] {
            router.on("/", method: method, use: handler)
            router.on("**", method: method, use: handler)
        }
        var logger = Logger(label: "listener")
        logger.logLevel = .critical
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
        let port = await iterator.next() ?? 0
        return RecordingListener(recorded: recorded, port: port, task: task)
    }

    func stop() { task.cancel() }
}
