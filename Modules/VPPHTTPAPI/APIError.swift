import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import VPPDomain
import VPPUseCases

/// Maps every error to `{"error": {"code", "message"}}` with the right status, in one place. Database and
/// transport details never reach the client; unknown errors are logged and answered with a generic 500.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let (status, code, message) = Self.classify(error)
            if status == .internalServerError {
                logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(String(reflecting: error))"])
            }
            return Self.response(status, code: code, message: message)
        }
    }

    static func response(_ status: HTTPResponse.Status, code: String, message: String) -> Response {
        let body = (try? JSONSerialization.data(withJSONObject: ["error": ["code": code, "message": message]], options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func classify(_ error: any Error) -> (HTTPResponse.Status, String, String) {
        switch error {
        case let error as HTTPError:
            let status = error.status
            return (status, status == .contentTooLarge ? "body_too_large" : "http_\(status.code)",
                    status == .contentTooLarge ? "The request body is too large (limit 256 KiB)." : (error.body ?? status.reasonPhrase))
        case let error as AccessDenied: return (.forbidden, "forbidden", error.description)
        case UseCaseError.unauthorised: return (.unauthorized, "unauthorized", "A valid API key is required (Authorization: Bearer vpp_…).")
        case let error as UseCaseError:
            switch error {
            case .syncInProgress, .alreadyLicensed: return (.conflict, "conflict", error.description)
            case .badNotification: return (.badRequest, "bad_notification", error.description)
            default: return (.unprocessableContent, "invalid_request", error.description)
            }
        case let error as TokenFileError: return (.unprocessableContent, error.code, error.description)
        case let error as IdentifierError: return (.unprocessableContent, "invalid_identifier", error.description)
        case let error as LicenceError:
            switch error {
            case .noLicencesLeft, .noUsableToken: return (.conflict, "no_licences_left", error.description)
            default: return (.unprocessableContent, "licence_refused", error.description)
            }
        case let error as StoreError:
            switch error {
            case .unknownToken, .unknownApp, .unknownDevice, .unknownUser, .unknownTenant: return (.notFound, "not_found", error.description)
            case .duplicateLocation, .duplicateTenant: return (.conflict, "duplicate", error.description)
            case .constraintViolation: return (.unprocessableContent, "refused", error.description)
            case .unavailable: return (.serviceUnavailable, "database_unavailable", "The database is unavailable; try again shortly.")
            }
        case let error as AppleAPIError:
            return (.badGateway, "apple_error", error.description)
        case let error as DecodingError:
            return (.badRequest, "bad_json", "The request body is not the JSON this endpoint expects: \(Self.describe(error))")
        case is NIOTooManyBytesError:
            return (.contentTooLarge, "body_too_large", "The request body is too large (limit 256 KiB).")
        default:
            return (.internalServerError, "internal", "Something went wrong; the server logged the details.")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): "missing field \"\(key.stringValue)\""
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            (c.codingPath.map(\.stringValue).joined(separator: ".").isEmpty ? "" : "at \(c.codingPath.map(\.stringValue).joined(separator: ".")): ") + c.debugDescription
        @unknown default: "unreadable"
        }
    }
}

/// Resolves `Authorization: Bearer vpp_…` to a caller bound to the key's tenant and role.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = VPPRequestContext
    let administration: TenantAdministration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
              let caller = try await administration.authenticate(apiKey: String(header.dropFirst("Bearer ".count)))
        else { throw UseCaseError.unauthorised }
        var context = context
        context.caller = caller
        return try await next(request, context)
    }
}
