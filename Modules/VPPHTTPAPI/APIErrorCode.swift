import HTTPTypes

/// Every `error.code` the API answers with: stable, one per distinct problem, each with exactly one HTTP
/// status (``status``), and listed per status in the OpenAPI document (generated from this enum, so the two
/// cannot drift).
enum APIErrorCode: String, CaseIterable, Sendable {
    // Request shape
    case badJSON = "bad_json"
    case badQueryParameter = "bad_query_parameter"
    case bodyTooLarge = "body_too_large"
    case routeNotFound = "route_not_found"
    case methodNotAllowed = "method_not_allowed"
    case requestTimeout = "request_timeout"
    case unsupportedMediaType = "unsupported_media_type"
    case badRequest = "bad_request"
    // Edge validation
    case controlCharacters = "control_characters"
    case tooLong = "too_long"
    case duplicateItems = "duplicate_items"
    case outOfRange = "out_of_range"
    case tooManyItems = "too_many_items"
    case invalidAdamID = "invalid_adam_id"
    case invalidPricingParam = "invalid_pricing_param"
    case invalidSerialNumber = "invalid_serial_number"
    case invalidClientUserID = "invalid_client_user_id"
    case invalidEmail = "invalid_email"
    case invalidAPIKeyRequest = "invalid_api_key_request"
    // Idempotency-Key
    case invalidIdempotencyKey = "invalid_idempotency_key"
    case idempotencyKeyReused = "idempotency_key_reused"
    case idempotencyKeyInProgress = "idempotency_key_in_progress"
    case idempotencyOutcomeLost = "idempotency_outcome_lost"
    // Who is calling
    case unauthorized
    case forbidden
    // Token files (the parser's own codes)
    case invalidTokenFile = "invalid_token_file"
    case tokenFileEmpty = "token_file_empty"
    case tokenFileTooLarge = "token_file_too_large"
    case tokenFileNotText = "token_file_not_text"
    case tokenFileNotBase64 = "token_file_not_base64"
    case tokenFileNotJSON = "token_file_not_json"
    case tokenFileWrongShape = "token_file_wrong_shape"
    case tokenFileMissingField = "token_file_missing_field"
    case tokenFileEmptyField = "token_file_empty_field"
    case tokenFileBadDate = "token_file_bad_date"
    case tokenFileExpired = "token_file_expired"
    // Use cases
    case wrongLocation = "wrong_location"
    case tokenUnusable = "token_unusable"
    case takeOverNeedsConfirmation = "take_over_needs_confirmation"
    case nothingToTakeOver = "nothing_to_take_over"
    case unknownDevices = "unknown_devices"
    case unknownUsers = "unknown_users"
    case noAssignees = "no_assignees"
    case alreadyLicensed = "already_licensed"
    case notLicensed = "not_licensed"
    case syncInProgress = "sync_in_progress"
    case badNotification = "bad_notification"
    case badPageRequest = "bad_page_request"
    case badStatusReport = "bad_status_report"
    /// A signed MDM webhook body that is not a usable MicroMDM-compatible event.
    case badMDMEvent = "bad_mdm_event"
    /// A scope's declaration terms that cannot go together (a pinned version with automatic updates).
    case invalidDeclarationTerms = "invalid_declaration_terms"
    // The MDM connection
    case mdmNotConnected = "mdm_not_connected"
    case unknownCommand = "unknown_command"
    /// No declaration set change with this id (the pull API's acknowledgement).
    case unknownDeclarationChange = "unknown_declaration_change"
    case invalidMDMConnection = "invalid_mdm_connection"
    // Desired state
    case unknownGroup = "unknown_group"
    case unknownScope = "unknown_scope"
    case dynamicGroup = "dynamic_group"
    case groupInUse = "group_in_use"
    case invalidDesiredState = "invalid_desired_state"
    // Licences
    case bookToDevice = "book_to_device"
    case notDeviceAssignable = "not_device_assignable"
    case notRevocable = "not_revocable"
    case noLicencesLeft = "no_licences_left"
    case noUsableToken = "no_usable_token"
    case invalidTransition = "invalid_transition"
    // Storage
    case unknownToken = "unknown_token"
    case unknownApp = "unknown_app"
    case unknownDevice = "unknown_device"
    case unknownUser = "unknown_user"
    case unknownTenant = "unknown_tenant"
    case unknownAPIKey = "unknown_api_key"
    case duplicateLocation = "duplicate_location"
    case duplicateTenant = "duplicate_tenant"
    case refused
    case databaseUnavailable = "database_unavailable"
    case unreadableRecord = "unreadable_record"
    // Apple
    case appleTokenExpired = "apple_token_expired"
    case appleTokenRevoked = "apple_token_revoked"
    case appleTokenInvalid = "apple_token_invalid"
    case tokenClaimedElsewhere = "token_claimed_elsewhere"
    case appleNotEnoughLicences = "apple_not_enough_licences"
    case appleUnknownUser = "apple_unknown_user"
    case appleOverLimits = "apple_over_limits"
    case appleRateLimited = "apple_rate_limited"
    case appleUnavailable = "apple_unavailable"
    case appleUnreachable = "apple_unreachable"
    case appleError = "apple_error"
    // The server itself
    case secretsUnavailable = "secrets_unavailable"
    case `internal`

    /// The document's `enum:` list of codes.
    static var yamlList: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// The one status this code is answered with: a client may branch on either and never sees them disagree.
    var status: HTTPResponse.Status {
        switch self {
        case .badJSON, .badQueryParameter, .badRequest, .badNotification, .badPageRequest, .badStatusReport,
            .badMDMEvent:
            .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .routeNotFound, .unknownToken, .unknownApp, .unknownDevice, .unknownUser, .unknownTenant,
            .unknownAPIKey, .mdmNotConnected, .unknownCommand, .unknownDeclarationChange, .unknownGroup, .unknownScope:
            .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .requestTimeout: .requestTimeout
        case .tokenUnusable, .nothingToTakeOver, .alreadyLicensed, .syncInProgress, .noLicencesLeft, .noUsableToken,
            .invalidTransition, .duplicateLocation, .duplicateTenant, .tokenClaimedElsewhere, .appleNotEnoughLicences,
            .groupInUse, .idempotencyKeyInProgress, .idempotencyOutcomeLost:
            .conflict
        case .bodyTooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .controlCharacters, .tooLong, .duplicateItems, .outOfRange, .tooManyItems, .invalidAdamID,
            .invalidPricingParam, .invalidSerialNumber, .invalidClientUserID, .invalidEmail, .invalidAPIKeyRequest,
            .invalidTokenFile, .tokenFileEmpty, .tokenFileTooLarge, .tokenFileNotText, .tokenFileNotBase64,
            .tokenFileNotJSON, .tokenFileWrongShape, .tokenFileMissingField, .tokenFileEmptyField, .tokenFileBadDate,
            .tokenFileExpired, .wrongLocation, .takeOverNeedsConfirmation, .unknownDevices, .unknownUsers,
            .noAssignees, .notLicensed, .bookToDevice, .notDeviceAssignable, .notRevocable, .refused,
            .appleTokenExpired, .appleTokenRevoked, .appleTokenInvalid, .appleUnknownUser, .appleOverLimits,
            .invalidMDMConnection, .dynamicGroup, .invalidDesiredState, .invalidIdempotencyKey, .idempotencyKeyReused,
            .invalidDeclarationTerms:
            .unprocessableContent
        case .internal, .secretsUnavailable, .unreadableRecord: .internalServerError
        case .appleError: .badGateway
        case .databaseUnavailable, .appleRateLimited, .appleUnavailable, .appleUnreachable: .serviceUnavailable
        }
    }
}
