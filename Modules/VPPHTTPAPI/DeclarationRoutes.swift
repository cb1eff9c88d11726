import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import VPPDomain
import VPPUseCases

/// Declarative delivery's edges: a device's status report posted directly (`POST /v1/device-status/{id}`) and
/// the tenant's DDM server (`PUT|GET /v1/mdm/declarations`, the REST twin of `vppctl mdm declarations`).
enum DeclarationRoutes {
    /// What a posted status report changed, app by app.
    struct StatusAnswer: Encodable, APISchema {
        struct App: Encodable {
            let adamId: String
            let pricingParam: String
            /// What the device's state means to vpp.
            let outcome: String
            /// What became of a heal of `Error.LicenseNotFound`, when one was asked for.
            let healing: String?
        }
        let recorded: [App]
        /// Items for declarations that are not vpp's, or for which the device never joined a set.
        let ignored: Int

        static let outcomes = ["verified", "licence-not-found", "drift", "failed", "pending"]
        static let schemaName = "DeviceStatusRecorded"
        static var schema: JSONSchema {
            .object(
                [
                    "recorded": .array(
                        .object(
                            [
                                "adamId": .ref(AdamIDSchema.self), "pricingParam": .string,
                                "outcome": .oneOf(outcomes),
                            ],
                            optional: ["healing": .oneOf(HealLicenceNotFound.Result.self)]
                        )
                    ),
                    "ignored": .integer(minimum: 0),
                ]
            )
        }

        init(_ outcome: RecordDeviceStatus.Outcome) {
            recorded = outcome.recorded.sorted { $0.key < $1.key }.map { asset, disposition in
                App(
                    adamId: asset.adamID,
                    pricingParam: asset.pricingParam.rawValue,
                    outcome: Self.text(disposition),
                    healing: outcome.healing[asset]?.rawValue
                )
            }
            ignored = outcome.ignored
        }

        static func text(_ disposition: ManagedAppStatus.Disposition) -> String {
            switch disposition {
            case .verified: "verified"
            case .licenceNotFound: "licence-not-found"
            case .drift: "drift"
            case .failed: "failed"
            case .pending: "pending"
            }
        }
    }

    /// The tenant's DDM server as the API takes it; the key is write-only.
    struct ServerBody: Codable, APISchema {
        let kind: String
        let url: String?
        let apiKey: String?
        var rotateSecret: Bool? = nil

        static let schemaName = "DeclarationServerRequest"
        static var schema: JSONSchema {
            .object(
                ["kind": .oneOf(DeclarationPublisherKind.self)],
                optional: [
                    "url": .string.described("The DDM server's base URL (KMFDDM, or NanoHUB's KMFDDM prefix)"),
                    "apiKey": .string.described("The DDM server's API key; stored encrypted, never returned"),
                    "rotateSecret": .boolean.described(
                        "webhook chosen again: true makes a new whsec_ secret (answered once); otherwise the secret "
                            + "the receiver has is kept"
                    ),
                ]
            )
        }
    }

    /// The tenant's DDM server as the API shows it (never its key).
    struct ServerView: Encodable, APISchema {
        let kind: String
        let url: String?
        /// The tenant's default delivery (`commands` or `declarations`).
        let delivery: String
        /// The webhook kind's new `whsec_` signing secret: in the answer that chose the kind, never again.
        var signingSecret: String?

        static let schemaName = "DeclarationServer"
        static var schema: JSONSchema {
            .object(
                ["kind": .oneOf(DeclarationPublisherKind.self), "delivery": .oneOf(AppDelivery.self)],
                optional: [
                    "url": .string,
                    "signingSecret": .string.described(
                        "webhook: the whsec_ secret the events are signed with; shown once, when the kind is chosen"
                    ),
                ]
            )
        }
    }

    /// The largest status report read (a device's full report of every app stays far below it).
    static let maximumReportSize = 1 << 20

    static let operations: [APIOperation] = [
        APIOperation(
            method: .post,
            path: "/v1/device-status/{enrollmentId}",
            operationID: "recordDeviceStatus",
            summary: "A device's declarative status report, as Apple defines it (StatusItems.app.managed.list; "
                + "incremental reports with _removed): managed verifies the licence's install, failures show on the "
                + "device's declaration row, managed-but-uninstalled is drift, Error.LicenseNotFound is healed (Apple "
                + "asked, the licence re-associated, the declaration re-published, at most "
                + "VPP_DECLARATION_HEAL_ATTEMPTS times). Posting a report again changes nothing more.",
            access: .apiKey(.manageLicences),
            parameters: [.path("enrollmentId", .string(minLength: 1, maxLength: 128))],
            requestBody: .anyObject,
            answers: [.json(200, "Recorded", .ref(StatusAnswer.self))],
            errors: [400, 404, 413]
        ) { call in
            var request = call.request
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: maximumReportSize)
            } catch is NIOTooManyBytesError {
                throw HTTPError(.contentTooLarge)
            }
            let outcome = try await call.useCases.recordDeviceStatus(
                try call.caller(),
                enrollmentID: try call.path("enrollmentId"),
                report: Data(buffer: body)
            )
            return json(StatusAnswer(outcome))
        },
        APIOperation(
            method: .put,
            path: "/v1/mdm/declarations",
            operationID: "setDeclarationServer",
            summary: "Choose the tenant's DDM server (kmfddm with url and apiKey; webhook with url: signed Standard "
                + "Webhooks events, its new whsec_ secret answered once — chosen again, the secret is kept unless "
                + "rotateSecret; pull; or off: changes stay queued and visible); "
                + "the key is sealed and never returned; needs mdm-admin",
            access: .apiKey(.manageTenant),
            requestBody: .ref(ServerBody.self),
            answers: [.json(200, "Saved", .ref(ServerView.self))],
            errors: [403, 422]
        ) { call in
            let body = try await call.body(ServerBody.self)
            guard let kind = DeclarationPublisherKind(rawValue: body.kind) else {
                return MDMRoutes.invalid(
                    .invalidMDMConnection,
                    "kind must be one of \(DeclarationPublisherKind.allCases.map(\.rawValue).joined(separator: ", ")).",
                    call.context
                )
            }
            return try await MDMRoutes.respond(call.context) {
                let configure = call.useCases.configureAppDelivery
                let caller = try call.caller()
                let secret = try await configure.setPublisher(
                    caller,
                    kind,
                    url: body.url,
                    apiKey: body.apiKey,
                    rotateSecret: body.rotateSecret ?? false
                )
                var answer = try await view(configure, caller)
                answer.signingSecret = secret
                return json(answer)
            }
        },
        APIOperation(
            method: .get,
            path: "/v1/mdm/declarations",
            operationID: "showDeclarationServer",
            summary: "The tenant's DDM server (kind and URL, never its key) and its default app delivery",
            access: .apiKey(.read),
            answers: [.json(200, "The DDM server", .ref(ServerView.self))]
        ) { call in
            json(try await view(call.useCases.configureAppDelivery, try call.caller()))
        },
    ]

    /// The pull API: queued declaration-set changes for a DDM server that polls, and its reports.
    static let pullOperations: [APIOperation] = [
        APIOperation(
            method: .get,
            path: "/v1/declaration-changes",
            operationID: "listDeclarationChanges",
            summary: "Queued declaration-set changes oldest first, each join with the declaration document to store "
                + "first (the pull API for DDM servers that poll; vppctl mdm declarations pull)",
            access: .apiKey(.read),
            parameters: [
                .query("after", .string, "The `next` (or a change's `cursor`) of the previous page"),
                .query("limit", .integer(minimum: 1, maximum: 1000, default: 100)),
            ],
            answers: [.json(200, "A page", .ref(ChangePage.self))],
            errors: [400]
        ) { call in
            var after: DeviceCommandCursor?
            if let text = try call.query.single("after", allowed: ["a cursor"]), !text.isEmpty {
                guard let cursor = DeviceCommandCursor(text) else {
                    throw BadQueryParameter(name: "after", value: text, allowed: ["a cursor returned by this API"])
                }
                after = cursor
            }
            let limitText = try call.query.single("limit", allowed: ["1…1000"]) ?? "100"
            guard let limit = Int(limitText), (1...1000).contains(limit) else {
                throw BadQueryParameter(name: "limit", value: limitText, allowed: ["1…1000"])
            }
            let changes = try await call.useCases.pullDeclarationChanges.list(
                try call.caller(),
                after: after,
                limit: limit
            )
            return json(ChangePage(changes: changes, next: changes.count == limit ? changes.last?.cursor : nil))
        },
        APIOperation(
            method: .post,
            path: "/v1/declaration-changes/{id}/ack",
            operationID: "acknowledgeDeclarationChange",
            summary: "A pulling DDM server reports a change done (the declaration stored, the set changed) or failed",
            access: .apiKey(.manageLicences),
            parameters: [.path("id", .uuid)],
            requestBody: .ref(ChangeReport.self),
            answers: [.json(200, "Recorded", .ref(DeclarationSetChangeView.self))],
            errors: [403, 404, 409]
        ) { call in
            guard let id = UUID(uuidString: try call.path("id")) else {
                return MDMRoutes.failure(.unknownDeclarationChange(UUID()), call.context)
            }
            let body = try await call.body(ChangeReport.self)
            return try await MDMRoutes.respond(call.context) {
                json(
                    try await call.useCases.pullDeclarationChanges.acknowledge(
                        try call.caller(),
                        id: id,
                        status: body.status,
                        error: body.error
                    )
                )
            }
        },
    ]

    struct ChangeReport: Codable, APISchema {
        let status: String
        let error: String?

        static let schemaName = "DeclarationChangeReport"
        static var schema: JSONSchema {
            .object(["status": .oneOf(["done", "failed"])], optional: ["error": .string(maxLength: 500)])
        }
    }

    struct ChangePage: Encodable, APISchema {
        let changes: [DeclarationChangeView]
        /// Pass as `after` for the next page; absent when this page was the last.
        let next: String?

        static let schemaName = "DeclarationChangePage"
        static var schema: JSONSchema {
            .object(
                ["changes": .array(.ref(DeclarationChangeView.self))],
                optional: ["next": .string.described("Pass as after for the next page; absent on the last page")]
            )
        }
    }

    static func view(_ configure: ConfigureAppDelivery, _ caller: Caller) async throws -> ServerView {
        let (kind, url) = try await configure.publisher(caller)
        return ServerView(kind: kind.rawValue, url: url, delivery: try await configure.show(caller).rawValue)
    }
}

extension DeclarationChangeView: APISchema {
    public static let schemaName = "DeclarationChange"
    public static var schema: JSONSchema {
        .object(
            [
                "id": .string, "change": .oneOf(DeclarationSetChange.Kind.self), "state": .string, "set": .string,
                "createdAt": .dateTime, "cursor": .string,
            ],
            optional: [
                "enrollmentId": .string, "serialNumber": .string, "clientUserId": .string,
                "declaration": .string.described("A join's declaration document (JSON text) to store before the set"),
            ]
        )
    }
}

extension DeclarationSetChangeView: APISchema {
    public static let schemaName = "DeclarationSetChange"
    public static var schema: JSONSchema {
        .object(
            [
                "id": .string, "serialNumber": .string, "adamId": .string, "pricingParam": .string,
                "declaration": .string, "change": .string, "state": .string, "attempts": .integer,
                "createdAt": .dateTime, "deviceReasons": .array(.string), "healAttempts": .integer,
            ],
            optional: [
                "clientUserId": .string, "lastError": .string, "updatedAt": .dateTime, "deviceState": .string,
                "reportedAt": .dateTime, "installState": .string, "healState": .string, "healError": .string,
            ]
        )
    }
}
