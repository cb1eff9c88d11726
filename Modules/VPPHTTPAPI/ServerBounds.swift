import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

/// What a client may hold of the server: every connection is bounded in time and in number, so slow,
/// half-open and oversized clients cannot pin it.
public struct ServerBounds: Sendable {
    /// A request head must be complete this long after the connection opens.
    public var headerTimeout: TimeAmount
    /// A request body must be complete this long after its head.
    public var bodyTimeout: TimeAmount
    /// A keep-alive connection with no request in flight closes after this long.
    public var idleTimeout: TimeAmount
    /// Connections open at once; beyond it the server stops accepting until one closes. Idle or slow connections
    /// (no request being handled) may hold only ``idleShare`` of it: past that, the oldest of them is closed for
    /// each new one, so a new client (a health check) is served at once however many connections are held open.
    public var maxConnections: Int
    /// How many idle or slow connections are kept: all but an eighth of the cap (at least one place is kept free).
    var idleShare: Int { max(1, maxConnections - max(1, maxConnections / 8)) }

    public init(
        headerTimeout: TimeAmount = .seconds(10),
        bodyTimeout: TimeAmount = .seconds(30),
        idleTimeout: TimeAmount = .seconds(60),
        maxConnections: Int = 512
    ) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }

    /// The HTTP/1 server with these bounds.
    public var server: HTTPServerBuilder {
        let bounds = self
        // One registry per server, shared by its connections' handlers (one handler per connection).
        let registry = ConnectionRegistry()
        return .http1(
            configuration: .init(
                additionalChannelHandlers: [ConnectionDeadlineHandler(bounds: bounds, registry: registry)],
                idleTimeout: bounds.idleTimeout
            )
        )
    }

    /// The application configuration with the connection cap.
    public func configuration(
        address: BindAddress,
        serverName: String? = nil,
        logger: Logger
    ) -> ApplicationConfiguration {
        ApplicationConfiguration(
            address: address,
            serverName: serverName,
            availableConnectionsDelegate: MaximumAvailableConnections(maxConnections, logger: logger)
        )
    }
}

/// Closes a connection whose request head or body does not arrive in time, or that stays idle, and closes
/// it after a response that says `Connection: close` (vpp's 401 and 413): the rest of an unwanted body is
/// never read.
final class ConnectionDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let bounds: ServerBounds
    private var deadline: Scheduled<Void>?
    private var requestOpen = false
    private var closeAfterResponse = false

    let registry: ConnectionRegistry

    init(bounds: ServerBounds, registry: ConnectionRegistry) {
        self.bounds = bounds
        self.registry = registry
    }

    /// This connection's place in the server's registry, once registered.
    private var registered: Int?

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            arm(context, bounds.headerTimeout)
            register(context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        unregister()
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context, bounds.headerTimeout)
        register(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        unregister()
        context.fireChannelInactive()
    }

    private func register(_ context: ChannelHandlerContext) {
        guard registered == nil else { return }
        registered = registry.register(context.channel, keeping: bounds.idleShare)
    }

    private func unregister() {
        if let registered { registry.remove(registered) }
        registered = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            requestOpen = true
            arm(context, bounds.bodyTimeout)
        case .body:
            break
        case .end:
            requestOpen = false
            // The handler may take as long as it needs; the next deadline starts when the response ends.
            deadline?.cancel()
            // A request being handled is never shed.
            if let registered { registry.setBusy(registered, true) }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            if head.headerFields[.connection] == "close" { closeAfterResponse = true }
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            if closeAfterResponse {
                let written = promise ?? context.eventLoop.makePromise()
                written.futureResult.whenComplete { _ in context.close(promise: nil) }
                context.write(data, promise: written)
            } else {
                // A request still sending its body keeps its body deadline; otherwise wait for the next head.
                if !requestOpen { arm(context, bounds.idleTimeout) }
                if let registered { registry.setBusy(registered, false) }
                context.write(data, promise: promise)
            }
        }
    }

    private func arm(_ context: ChannelHandlerContext, _ amount: TimeAmount) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: amount) { channel.close(promise: nil) }
    }
}

/// The connections open on one server, each idle or slow (no request being handled) or busy. When more than the
/// share kept are open, the oldest idle or slow one is closed for each new one: held connections cannot make new
/// clients wait for the cap (1,000 idle connections against a cap of 512 once starved the health checks).
final class ConnectionRegistry: Sendable {
    struct Entry {
        let channel: any Channel
        /// When it opened or last finished a response: the oldest goes first.
        var since: NIODeadline
        var busy: Bool
    }

    private let state = Mutex<(next: Int, entries: [Int: Entry])>((0, [:]))

    /// Registers `channel` and closes the oldest idle or slow connections beyond `keeping`; returns its key.
    func register(_ channel: any Channel, keeping: Int) -> Int {
        let (key, shed) = state.withLock { state -> (Int, [any Channel]) in
            let key = state.next
            state.next += 1
            state.entries[key] = Entry(channel: channel, since: .now(), busy: false)
            var shed: [any Channel] = []
            if state.entries.count > keeping {
                let idle = state.entries.filter { $0.key != key && !$0.value.busy }
                    .sorted { $0.value.since < $1.value.since }
                for (old, entry) in idle.prefix(state.entries.count - keeping) {
                    state.entries[old] = nil
                    shed.append(entry.channel)
                }
            }
            return (key, shed)
        }
        for channel in shed { channel.close(promise: nil) }
        return key
    }

    func setBusy(_ key: Int, _ busy: Bool) {
        state.withLock { state in
            state.entries[key]?.busy = busy
            if !busy { state.entries[key]?.since = .now() }
        }
    }

    func remove(_ key: Int) { _ = state.withLock { $0.entries.removeValue(forKey: key) } }

    /// Connections registered now (for tests).
    var count: Int { state.withLock { $0.entries.count } }
}
