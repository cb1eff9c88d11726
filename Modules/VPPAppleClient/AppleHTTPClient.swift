import AsyncHTTPClient
import NIOCore

/// The process-wide HTTP client for Apple calls.
///
/// Unlike `HTTPClient.shared`, it does not keep retrying a connection that is refused until the request's
/// deadline: our own retry policy decides, so an unreachable Apple (or simulator) fails in milliseconds.
/// Like `HTTPClient.shared`, it lives as long as the process and is never shut down.
public enum AppleHTTPClient {
    public static let shared: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()
}
