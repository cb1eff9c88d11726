import Foundation
import Hummingbird
import NIOCore
import Synchronization
import VPPDomain
import VPPUseCases

/// Per-request context: who is calling (set by ``APIKeyMiddleware``), the request id and the body size limit.
public struct VPPRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var caller: Caller?
    /// The client's `X-Request-ID` when it is a short token, otherwise one we make; returned in the
    /// `X-Request-ID` header and in every error body, and logged with the request.
    public var requestID: String
    /// Shared with the request-log middleware, which logs the tenant the API key resolved to.
    let note = RequestNote()
    /// The connected client (the console throttles failed sign-ins per address).
    public let remoteAddress: SocketAddress?

    public init(source: Source) {
        coreContext = .init(source: source)
        caller = nil
        requestID = UUID().uuidString.lowercased()
        remoteAddress = source.channel.remoteAddress
    }

    /// Request bodies above 256 KiB are refused with 413: a token file is a few hundred bytes and a bulk
    /// assignment of 10,000 serials is about 150 KiB.
    public var maxUploadSize: Int { 256 * 1024 }

    /// The authenticated caller; the middleware guarantees one on `/v1` routes.
    func requireCaller() throws -> Caller {
        guard let caller else { throw UseCaseError.unauthorised }
        return caller
    }
}

/// What inner middleware learn about a request that the outer request log reports (contexts are values).
final class RequestNote: Sendable {
    let tenant = Mutex<TenantID?>(nil)
}
