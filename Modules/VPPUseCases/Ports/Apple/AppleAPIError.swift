import Foundation
import VPPDomain

/// What went wrong talking to Apple, in terms the use cases act on.
///
/// Never carries the content token; bodies appear only as short excerpts.
public enum AppleAPIError: Error, Hashable, Sendable, CustomStringConvertible {
    /// 9621: the token is past its expiry.
    case tokenExpired
    /// 9625: the token was revoked in Apple Business/School Manager.
    case tokenRevoked
    /// 9622, 9601 or 9722: Apple does not accept the token (e.g. the account's password changed).
    case tokenInvalid(errorNumber: Int)
    /// 9646 or HTTP 429, after the retry budget was spent.
    case rateLimited(retryAfterSeconds: Int?)
    /// 9709.
    case notEnoughLicences
    /// 9707.
    case notDeviceAssignable
    /// 9706.
    case notRevocable
    /// 9609: a clientUserId Apple does not know.
    case unknownUser
    /// 9650.
    case badPageIndex
    /// 9721: the `sinceVersionId` is no longer known; do a full walk.
    case badVersionID
    /// 9729 or HTTP 503, after the retry budget was spent.
    case serviceUnavailable(retryAfterSeconds: Int?)
    /// 9700–9705: a request over Apple's limits or with duplicates.
    case overLimits(errorNumber: Int, message: String)
    /// Any other error number Apple sent, kept as is.
    case apple(errorNumber: Int, message: String)
    /// Another holder's `mdmInfo` came back on a response: stop using the token and raise the conflict.
    case claimedByAnotherHolder(HolderIdentity)
    /// The connection failed (refused, reset, TLS, DNS).
    case transport(String)
    /// No answer before the call's deadline.
    case timeout
    /// The body is not the JSON Apple sends; `excerpt` is at most 200 characters of it.
    case malformedResponse(status: Int, excerpt: String)
    /// The body exceeded the client's size cap.
    case responseTooLarge(limit: Int)
    /// An HTTP error status with no Apple error body.
    case httpStatus(Int, excerpt: String)
    /// Paging never settled: the data kept changing between pages.
    case pagingUnstable(restarts: Int)

    /// Maps Apple's `errorNumber` (and the HTTP status) to a case.
    public static func from(errorNumber: Int, message: String, retryAfter: Int? = nil) -> AppleAPIError {
        switch errorNumber {
        case 9621: .tokenExpired
        case 9625: .tokenRevoked
        case 9601, 9622, 9722: .tokenInvalid(errorNumber: errorNumber)
        case 9646: .rateLimited(retryAfterSeconds: retryAfter)
        case 9709: .notEnoughLicences
        case 9707: .notDeviceAssignable
        case 9706: .notRevocable
        case 9609: .unknownUser
        case 9650: .badPageIndex
        case 9721: .badVersionID
        case 9729: .serviceUnavailable(retryAfterSeconds: retryAfter)
        case 9700...9705: .overLimits(errorNumber: errorNumber, message: message)
        default: .apple(errorNumber: errorNumber, message: message)
        }
    }

    /// Whether waiting and trying again may help.
    public var isTransient: Bool {
        switch self {
        case .rateLimited, .serviceUnavailable, .timeout, .transport, .malformedResponse: true
        case .apple(let number, _): number == 9603
        case .httpStatus(let code, _): code >= 500
        default: false
        }
    }

    /// Whether the token itself is unusable (the use cases mark it and stop syncing).
    public var disablesToken: Bool {
        switch self {
        case .tokenExpired, .tokenRevoked, .tokenInvalid, .claimedByAnotherHolder: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .tokenExpired: "Apple says the content token has expired (9621)."
        case .tokenRevoked: "Apple says the content token was revoked (9625)."
        case .tokenInvalid(let number):
            "Apple does not accept the content token (\(number)); download a new one from Apple Business Manager."
        case .rateLimited(let seconds):
            "Apple is rate-limiting this location (9646)" + (seconds.map { "; retry after \($0) s." } ?? ".")
        case .notEnoughLicences: "Apple has not enough licences left (9709)."
        case .notDeviceAssignable: "Apple says the asset cannot be assigned to devices (9707)."
        case .notRevocable: "Apple says the asset's licences cannot be revoked (9706)."
        case .unknownUser: "Apple does not know the user (9609)."
        case .badPageIndex: "Apple refused the page index (9650)."
        case .badVersionID: "Apple no longer knows the versionId (9721); a full sync is needed."
        case .serviceUnavailable(let seconds):
            "Apple's service is temporarily unavailable (9729/503)" + (seconds.map { "; retry after \($0) s." } ?? ".")
        case .overLimits(let number, let message): "Request over Apple's limits (\(number)): \(message)"
        case .apple(let number, let message): "Apple error \(number): \(message)"
        case .claimedByAnotherHolder(let holder): "The token is now claimed by \(holder) (id \(holder.id))."
        case .transport(let detail): "Cannot reach Apple: \(detail)"
        case .timeout: "Apple did not answer in time."
        case .malformedResponse(let status, let excerpt): "Apple sent an unreadable answer (HTTP \(status)): \(excerpt)"
        case .responseTooLarge(let limit): "Apple's answer exceeded \(limit) bytes."
        case .httpStatus(let code, let excerpt): "Apple answered HTTP \(code): \(excerpt)"
        case .pagingUnstable(let restarts): "Apple's data kept changing while paging (\(restarts) restarts)."
        }
    }
}
