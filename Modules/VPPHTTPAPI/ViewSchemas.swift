import Foundation
import VPPDomain
import VPPUseCases

/// The patterns the API's schemas share (what the edge validation accepts, so generated clients and
/// fuzzers send what the server takes).
enum SchemaPattern {
    /// No control characters (C0, DEL, C1).
    static let noControl = #"^[^\x00-\x1F\x7F-\x9F]*$"#
    static let email =
        #"^[^\s@\x00-\x1F\x7F-\x9F]+@[^\s@.\x00-\x1F\x7F-\x9F][^\s@\x00-\x1F\x7F-\x9F]*\.[^\s@\x00-\x1F\x7F-\x9F]*"#
        + #"[^\s@.\x00-\x1F\x7F-\x9F]$"#
}

extension JSONSchema {
    /// A time as vpp writes it: RFC 3339 in UTC (`2027-01-31T00:00:00Z`). The pattern holds answers to RFC 3339
    /// (ISO 8601's `+0000`, without the colon, is not RFC 3339 and fails it).
    static var timestamp: JSONSchema {
        .string(format: "date-time", pattern: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"#)
            .described("RFC 3339 time in UTC, e.g. 2027-01-31T00:00:00Z")
    }
}

/// A device serial number (named in the document so every use says the same).
enum SerialNumberSchema: APISchema {
    static let schemaName = "SerialNumber"
    static var schema: JSONSchema {
        .string(pattern: "^ *[A-Za-z0-9]{8,20} *$").described("8 to 20 ASCII letters and digits")
    }
}

/// An App Store product id.
enum AdamIDSchema: APISchema {
    static let schemaName = "AdamId"
    static var schema: JSONSchema { .string(pattern: "^[0-9]{1,20}$") }
}

/// An MDM's own id for a managed user.
enum ClientUserIDSchema: APISchema {
    static let schemaName = "ClientUserId"
    static var schema: JSONSchema {
        .string(
            pattern: #"^[^\s\x00-\x1F\x7F-\x9F]([^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F])?$"#,
            minLength: 1,
            maxLength: 256
        )
    }
}

// The read models are the use cases' (shared with the CLI's --json); their schemas are declared here, in the
// HTTP adapter, because JSON Schema is this adapter's concern. The sample test keeps them in step.

extension TokenView: APISchema {
    public static let schemaName = "Token"
    public static var schema: JSONSchema {
        .object(
            [
                "id": .uuid, "location": .string, "locationId": .string, "country": .string, "organization": .string,
                "expiresAt": .timestamp, "daysLeft": .integer,
                "status": .oneOf(TokenStatus.Kind.self),
                "nextStep": .string, "fingerprint": .string, "apps": .integer, "noticeRecipients": .array(.string),
            ],
            optional: ["holder": .string, "lastSync": .timestamp, "lastSyncError": .string]
        )
    }
}

extension AppView: APISchema {
    public static let schemaName = "App"
    public static var schema: JSONSchema {
        .object(
            [
                "adamId": .string, "pricingParam": .oneOf(PricingParam.self), "productType": .string,
                "platforms": .array(.string), "deviceAssignable": .boolean, "revocable": .boolean,
                "total": .integer, "assigned": .integer, "available": .integer,
            ],
            optional: ["name": .string, "bundleId": .string, "version": .string, "iconUrl": .string]
        )
    }
}

extension LicenceView: APISchema {
    public static let schemaName = "Licence"
    public static var schema: JSONSchema {
        .object(
            ["id": .uuid, "adamId": .string, "tokenId": .uuid, "state": .oneOf(AssignmentState.Code.self)],
            optional: [
                "serialNumber": .string, "clientUserId": .string, "detail": .string,
                "changedAt": .timestamp.described("When the licence last changed"),
            ]
        )
    }
}

extension DeviceView: APISchema {
    public static let schemaName = "Device"
    public static var schema: JSONSchema {
        .object(
            [
                "serialNumber": .string, "installedAdamIds": .array(.string), "retired": .boolean,
                "enrollment": .oneOf(EnrollmentState.self),
            ],
            optional: [
                "name": .string, "udid": .string.described("MDM enrollment id"), "model": .string,
                "osVersion": .string, "lastSeenAt": .timestamp,
            ]
        )
    }
}

extension UserView: APISchema {
    public static let schemaName = "User"
    public static var schema: JSONSchema {
        .object(["clientUserId": .string, "status": .string], optional: ["email": .string])
    }
}

extension MDMConnectionView: APISchema {
    public static let schemaName = "MDMConnection"
    public static var schema: JSONSchema {
        .object(
            [
                "kind": .oneOf(MDMKind.self), "url": .string, "hasAPIKey": .boolean, "hasWebhookHMACKey": .boolean,
                "reclaimAfterSeconds": .integer, "licenceOnly": .boolean, "licenceOnlyAdamIds": .array(.string),
                "commands": .map(.integer).described("Device commands by state"),
            ],
            optional: [
                "webhookURL": .string.described("Give this to the MDM server as its webhook URL"),
                "silentDaysUnenrolled": .integer,
                "disabledReason": .string.described("Set when the webhook endpoint answered 410 Gone"),
                "webhookWarning": .string.described(
                    "Set when there is no webhook HMAC key: the MDM server's device events are refused"
                ),
                "signingSecret": .string.described("The whsec_ secret, only in the answer that created it"),
                "webhookKey": .string.described(
                    "The webhook key vpp generated because none was given, only in the answer that created it"
                ),
                "webhookSecretURL": .string.described(
                    "The webhook URL with that key in its path, for MDM servers that cannot sign; shown once"
                ),
            ]
        )
    }
}

extension DeviceCommandView: APISchema {
    public static let schemaName = "DeviceCommand"
    public static var schema: JSONSchema {
        .object(
            [
                "id": .uuid.described("Also the plist's CommandUUID"), "serialNumber": .string,
                "requestType": .oneOf(DeviceCommand.Kind.self),
                "state": .oneOf(DeviceCommandState.self), "attempts": .integer, "createdAt": .timestamp,
                "cursor": .string,
            ],
            optional: [
                "adamId": .string, "nextAttemptAt": .timestamp, "lastError": .string, "deliveredAt": .timestamp,
                "updatedAt": .timestamp, "enrollmentId": .string,
                "plist": .string.with("contentEncoding", .text("base64")).described(
                    "The Apple MDM command (XML plist)"
                ),
            ]
        )
    }
}

extension ReportRowView: APISchema {
    public static let schemaName = "LicenceReportRow"
    public static var schema: JSONSchema {
        .object([
            "adamId": .string, "pricingParam": .string, "name": .string, "location": .string,
            "tokenStatus": .string, "total": .integer, "assigned": .integer, "available": .integer,
            "retired": .integer,
        ])
    }
}

extension DriftView: APISchema {
    public static let schemaName = "DriftFinding"
    public static var schema: JSONSchema {
        .object([
            "kind": .oneOf(DriftFinding.Kind.self), "adamId": .string, "assignee": .string,
            "location": .string, "fix": .string,
        ])
    }
}

extension APIKeyView: APISchema {
    public static let schemaName = "APIKey"
    public static var schema: JSONSchema {
        .object(
            [
                "id": .uuid, "name": .string, "role": .oneOf(Role.self), "createdBy": .string,
                "createdAt": .timestamp,
            ],
            optional: ["lastUsedAt": .timestamp, "expiresAt": .timestamp, "revokedAt": .timestamp]
        )
    }
}
