import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// What a client may hold of the server: every connection is bounded in time and in number, so slow,
/// half-open and oversized clients cannot pin it.
public struct ServerBounds: Sendable {
    /// A request head must be complete this long after the connection opens.
    public var headerTimeout: TimeAmount
    /// A request body must be complete this long after its head.
    public var bodyTimeout: TimeAmount
    /// A keep-alive connection with no request in flight closes after this long.
    public var idleTimeout: TimeAmount
    /// Connections open at once; beyond it the server stops accepting until one closes.
    public var maxConnections: Int

    public init(
        headerTimeout: TimeAmount = .seconds(10), bodyTimeout: TimeAmount = .seconds(30),
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
        return .http1(
            configuration: .init(
                additionalChannelHandlers: [ConnectionDeadlineHandler(bounds: bounds)],
                idleTimeout: bounds.idleTimeout))
    }

    /// The application configuration with the connection cap.
    public func configuration(
        address: BindAddress, serverName: String? = nil, logger: Logger
    ) -> ApplicationConfiguration {
        ApplicationConfiguration(
            address: address, serverName: serverName,
            availableConnectionsDelegate: MaximumAvailableConnections(maxConnections, logger: logger))
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

    init(bounds: ServerBounds) { self.bounds = bounds }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, bounds.headerTimeout) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { deadline?.cancel() }

    func channelActive(context: ChannelHandlerContext) {
        arm(context, bounds.headerTimeout)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        context.fireChannelInactive()
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
