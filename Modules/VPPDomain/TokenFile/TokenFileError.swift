import Foundation

/// Why a `.vpptoken` file was refused. Each case is one distinct problem, described for a person;
/// none of them repeats the secret.
public enum TokenFileError: Error, Hashable, Sendable, CustomStringConvertible {
    case empty
    case tooLarge(bytes: Int, limit: Int)
    case binaryOrWrongEncoding
    case notBase64
    case notJSON
    case wrongShape(found: String)
    case missingField(String)
    case emptyField(String)
    case unreadableDate(String)
    case alreadyExpired(Date)

    /// A stable code for APIs and scripts.
    public var code: String {
        switch self {
        case .empty: "token_file_empty"
        case .tooLarge: "token_file_too_large"
        case .binaryOrWrongEncoding: "token_file_not_text"
        case .notBase64: "token_file_not_base64"
        case .notJSON: "token_file_not_json"
        case .wrongShape: "token_file_wrong_shape"
        case .missingField: "token_file_missing_field"
        case .emptyField: "token_file_empty_field"
        case .unreadableDate: "token_file_bad_date"
        case .alreadyExpired: "token_file_expired"
        }
    }

    public var description: String {
        switch self {
        case .empty:
            "The token file is empty. Download the content token again from Apple Business Manager "
                + "(Preferences > Payments and Billing)."
        case .tooLarge(let bytes, let limit):
            "The token file is \(bytes) bytes; content tokens are a few hundred bytes and vpp accepts at most "
                + "\(limit). Is this the right file?"
        case .binaryOrWrongEncoding:
            "The token file is not plain UTF-8 text (it looks binary or was saved as UTF-16). Upload the .vpptoken "
                + "file exactly as downloaded."
        case .notBase64:
            "The token file is not Base64 text. Upload the .vpptoken file exactly as downloaded, without editing it."
        case .notJSON:
            "The token file is Base64, but what it decodes to is not JSON. It is not a content token."
        case .wrongShape(let found):
            "The token file decodes to JSON \(found), not the object {token, expDate, orgName} a content token holds."
        case .missingField(let name):
            "The token file has no \"\(name)\" field; a content token has token, expDate and orgName."
        case .emptyField(let name):
            "The token file's \"\(name)\" field is empty."
        case .unreadableDate(let text):
            "The token file's expDate \"\(text.prefix(40))\" is not a date like 2027-11-25T12:00:00+0000."
        case .alreadyExpired(let date):
            "The token expired on \(ISO8601Timestamp.format(date)). Download a new token from Apple Business Manager."
        }
    }
}
