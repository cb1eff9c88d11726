import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import VPPDomain
import VPPUseCases

/// One refusal as the client sees it: `{"error": {"code", "message", "requestId"}}` with its status and, when
/// waiting helps, `Retry-After`. Database and transport details never reach the client.
struct APIFailure: Sendable {
    let code: APIErrorCode
    let message: String
    var retryAfter: Int?
    /// The methods a path has (the `Allow` header of a 405).
    var allow: [String]?
    /// Always the code's own status (``APIErrorCode/status``).
    var status: HTTPResponse.Status { code.status }

    init(_ code: APIErrorCode, _ message: String, retryAfter: Int? = nil) {
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }
}

/// Maps every error to its own status and stable code, in one place. Each of our error enums is switched
/// over exhaustively (no `default:`), so a new case does not compile until it has a code; only an error of
/// a type we do not know is a generic 500 (logged with the request id).
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = VPPRequestContext
    let logger: Logger

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var failure = Self.classify(error)
            if failure.status == .notFound, failure.code == .routeNotFound,
                let allowed = APIRouter.methods(forPath: request.uri.path), !allowed.isEmpty
            {
                failure = APIFailure(
                    .methodNotAllowed,
                    "\(request.method.rawValue) is not allowed here; allowed: \(allowed.joined(separator: ", "))."
                )
                failure.allow = allowed
            }
            if failure.status.code >= 500 {
                logger.error(
                    "request failed",
                    metadata: [
                        "requestId": "\(context.requestID)", "route": "\(context.endpointPath ?? "unmatched")",
                        "code": "\(failure.code.rawValue)", "error": "\(Self.logText(error))",
                    ]
                )
            }
            return Self.response(failure, requestID: context.requestID)
        }
    }

    /// What the log may say about an error: its type and case, never row contents or secrets.
    static func logText(_ error: any Error) -> String {
        switch error {
        case let error as StoreError: "StoreError: \(error.description.prefix(300))"
        default: String(String(reflecting: error).prefix(300))
        }
    }

    static func response(_ failure: APIFailure, requestID: String) -> Response {
        let object: [String: Any] = [
            "error": ["code": failure.code.rawValue, "message": failure.message, "requestId": requestID]
        ]
        let body =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
        var headers: HTTPFields = [.contentType: "application/json"]
        if let seconds = failure.retryAfter { headers[.retryAfter] = "\(seconds)" }
        if let allow = failure.allow { headers[.allow] = allow.joined(separator: ", ") }
        if failure.status == .unauthorized || failure.status == .contentTooLarge {
            // Stop reading from a client we refused: it may be streaming an unbounded body.
            headers[.connection] = "close"
        }
        return Response(status: failure.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func classify(_ error: any Error) -> APIFailure {
        switch error {
        case let error as HTTPError: return http(error)
        case let error as BadQueryParameter: return APIFailure(.badQueryParameter, error.description)
        case let error as InvalidInput: return input(error)
        case let error as AccessDenied: return APIFailure(.forbidden, error.description)
        case let error as UseCaseError: return useCase(error)
        case let error as APIKeyError: return apiKey(error)
        case let error as TokenFileError:
            return APIFailure(.invalidTokenFile, error.description, code: error.code)
        case let error as IdentifierError: return identifier(error)
        case let error as LicenceError: return licence(error)
        case let error as StoreError: return store(error)
        case let error as IdempotencyRefusal: return error.failure
        case let error as AppleAPIError: return apple(error)
        case let error as SecretBoxError:
            // A key that cannot open a stored secret is the server's misconfiguration, never the caller's.
            _ = error
            return APIFailure(
                .secretsUnavailable,
                "A stored secret could not be opened; the operator must check the encryption key."
            )
        case let error as StatusReportError:
            return APIFailure(.badStatusReport, "The device status report cannot be read: \(error.description)")
        case let error as DesiredStateError:
            return APIFailure(.invalidDesiredState, error.description)
        case let error as DeclarationError:
            return APIFailure(
                .invalidDeclarationTerms,
                "The scope's declaration terms are refused: \(error.description)"
            )
        case let error as DecodingError:
            return APIFailure(
                .badJSON,
                "The request body is not the JSON this endpoint expects: \(Self.describe(error))"
            )
        case is NIOTooManyBytesError:
            return APIFailure(.bodyTooLarge, "The request body is too large (limit 256 KiB).")
        default:
            return APIFailure(.internal, "Something went wrong; the server logged the details.")
        }
    }

    static func http(_ error: HTTPError) -> APIFailure {
        switch error.status {
        case .contentTooLarge:
            APIFailure(.bodyTooLarge, "The request body is too large (limit 256 KiB).")
        case .notFound: APIFailure(.routeNotFound, "No such route.")
        case .methodNotAllowed: APIFailure(.methodNotAllowed, error.body ?? "Method not allowed.")
        case .requestTimeout: APIFailure(.requestTimeout, "The request was not received in time.")
        case .unsupportedMediaType:
            APIFailure(.unsupportedMediaType, error.body ?? "Unsupported media type.")
        default:
            APIFailure(error.status.code < 500 ? .badRequest : .internal, error.body ?? error.status.reasonPhrase)
        }
    }

    static func input(_ error: InvalidInput) -> APIFailure {
        let code: APIErrorCode =
            switch error.code {
            case .controlCharacters: .controlCharacters
            case .tooLong: .tooLong
            case .duplicateItems: .duplicateItems
            case .outOfRange: .outOfRange
            case .tooManyItems: .tooManyItems
            case .invalidAdamID: .invalidAdamID
            case .invalidPricingParam: .invalidPricingParam
            case .invalidAPIKeyRequest: .invalidAPIKeyRequest
            }
        return APIFailure(code, error.description)
    }

    static func useCase(_ error: UseCaseError) -> APIFailure {
        switch error {
        case .wrongLocation: APIFailure(.wrongLocation, error.description)
        case .tokenUnusable: APIFailure(.tokenUnusable, error.description)
        case .takeOverNeedsConfirmation:
            APIFailure(.takeOverNeedsConfirmation, error.description)
        case .nothingToTakeOver: APIFailure(.nothingToTakeOver, error.description)
        case .unknownDevices: APIFailure(.unknownDevices, error.description)
        case .unknownEnrollment: APIFailure(.unknownDevice, error.description)
        case .unknownUsers: APIFailure(.unknownUsers, error.description)
        case .noAssignees: APIFailure(.noAssignees, error.description)
        case .duplicateAssignees: APIFailure(.duplicateItems, error.description)
        case .alreadyLicensed: APIFailure(.alreadyLicensed, error.description)
        case .notLicensed: APIFailure(.notLicensed, error.description)
        case .syncInProgress: APIFailure(.syncInProgress, error.description)
        case .badNotification: APIFailure(.badNotification, error.description)
        case .badPageRequest: APIFailure(.badPageRequest, error.description)
        case .unauthorised:
            APIFailure(.unauthorized, "A valid API key is required (Authorization: Bearer vpp_…).")
        case .unknownGroup: APIFailure(.unknownGroup, error.description)
        case .unknownScope: APIFailure(.unknownScope, error.description)
        case .dynamicGroup: APIFailure(.dynamicGroup, error.description)
        case .groupInUse: APIFailure(.groupInUse, error.description)
        case .notDeviceAssignable: APIFailure(.notDeviceAssignable, error.description)
        case .badAlert: APIFailure(.invalidDesiredState, error.description)
        }
    }

    static func apiKey(_ error: APIKeyError) -> APIFailure {
        switch error {
        case .unknownKey: APIFailure(.unknownAPIKey, error.description)
        case .badName, .expiryInPast: APIFailure(.invalidAPIKeyRequest, error.description)
        }
    }

    static func identifier(_ error: IdentifierError) -> APIFailure {
        switch error {
        case .invalidSerialNumber: APIFailure(.invalidSerialNumber, error.description)
        case .invalidClientUserID: APIFailure(.invalidClientUserID, error.description)
        case .invalidEmail: APIFailure(.invalidEmail, error.description)
        }
    }

    static func licence(_ error: LicenceError) -> APIFailure {
        switch error {
        case .bookToDevice: APIFailure(.bookToDevice, error.description)
        case .notDeviceAssignable: APIFailure(.notDeviceAssignable, error.description)
        case .notRevocable: APIFailure(.notRevocable, error.description)
        case .noLicencesLeft: APIFailure(.noLicencesLeft, error.description)
        case .noUsableToken: APIFailure(.noUsableToken, error.description)
        case .invalidTransition: APIFailure(.invalidTransition, error.description)
        case .inconsistentCounts, .unreadableState:
            APIFailure(.internal, "Something went wrong; the server logged the details.")
        }
    }

    static func store(_ error: StoreError) -> APIFailure {
        switch error {
        case .unknownToken: APIFailure(.unknownToken, "No such token in this tenant.")
        case .unknownApp: APIFailure(.unknownApp, error.description)
        case .unknownDevice: APIFailure(.unknownDevice, error.description)
        case .unknownUser: APIFailure(.unknownUser, error.description)
        case .unknownTenant: APIFailure(.unknownTenant, error.description)
        case .duplicateLocation: APIFailure(.duplicateLocation, error.description)
        case .duplicateTenant: APIFailure(.duplicateTenant, error.description)
        case .alreadyLicensed: APIFailure(.alreadyLicensed, error.description)
        // The database's own words (constraint names, values) stay in the server's log.
        case .constraintViolation:
            APIFailure(
                .refused,
                "The change was refused: it conflicts with stored data or a data rule."
            )
        case .unavailable:
            APIFailure(
                .databaseUnavailable,
                "The database is unavailable; try again shortly.",
                retryAfter: 2
            )
        case .unreadable: APIFailure(.unreadableRecord, "A stored record could not be read.")
        }
    }

    static func apple(_ error: AppleAPIError) -> APIFailure {
        let text = error.description
        switch error {
        case .tokenExpired: return APIFailure(.appleTokenExpired, text)
        case .tokenRevoked: return APIFailure(.appleTokenRevoked, text)
        case .tokenInvalid: return APIFailure(.appleTokenInvalid, text)
        case .claimedByAnotherHolder: return APIFailure(.tokenClaimedElsewhere, text)
        case .notEnoughLicences: return APIFailure(.appleNotEnoughLicences, text)
        case .notDeviceAssignable: return APIFailure(.notDeviceAssignable, text)
        case .notRevocable: return APIFailure(.notRevocable, text)
        case .unknownUser: return APIFailure(.appleUnknownUser, text)
        case .overLimits: return APIFailure(.appleOverLimits, text)
        case .rateLimited(let seconds):
            return APIFailure(.appleRateLimited, text, retryAfter: seconds ?? 5)
        case .serviceUnavailable(let seconds):
            return APIFailure(.appleUnavailable, text, retryAfter: seconds ?? 30)
        case .transport, .timeout: return APIFailure(.appleUnreachable, text, retryAfter: 30)
        case .httpStatus(let status, _) where status >= 500:
            return APIFailure(.appleUnavailable, text, retryAfter: 30)
        case .badPageIndex, .badVersionID, .apple, .malformedResponse, .responseTooLarge, .httpStatus, .pagingUnstable:
            return APIFailure(.appleError, text)
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): "missing field \"\(key.stringValue)\""
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            (c.codingPath.map(\.stringValue).joined(separator: ".").isEmpty
                ? "" : "at \(c.codingPath.map(\.stringValue).joined(separator: ".")): ")
                + c.debugDescription.prefix(200)
        @unknown default: "unreadable"
        }
    }
}

extension APIFailure {
    /// A token-file refusal keeps the parser's own code (listed in the document too).
    init(_ fallback: APIErrorCode, _ message: String, code: String) {
        self.init(APIErrorCode(rawValue: code) ?? fallback, message)
    }
}

/// Resolves `Authorization: Bearer vpp_…` to a caller bound to the key's tenant and role. The lookup is
/// cached for a few seconds (``APIKeyCache``): revoked and expired keys are refused within that time on every
/// replica, and at once on the replica that revoked them.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = VPPRequestContext
    let keys: ManageAPIKeys
    let cache: APIKeyCache

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            let caller = try await cache.caller(
                for: String(header.dropFirst("Bearer ".count)),
                lookup: { try await keys.authenticate($0) }
            )
        else { throw UseCaseError.unauthorised }
        var context = context
        context.caller = caller
        context.note.tenant.withLock { $0 = caller.tenantID }
        return try await next(request, context)
    }
}
