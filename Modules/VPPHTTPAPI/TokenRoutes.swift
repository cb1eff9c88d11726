import Foundation
import Hummingbird
import VPPDomain
import VPPUseCases

/// `/v1/tokens…`
enum TokenRoutes {
    struct UploadBody: Codable, APISchema {
        /// The `.vpptoken` file's content (its Base64 text).
        let token: String
        let emails: [String]?
        let takeOver: Bool?
        let dryRun: Bool?

        static var schema: JSONSchema {
            .object(
                ["token": .string(maxLength: 16384).described("The .vpptoken file's content")],
                optional: [
                    "emails": .array(.string(pattern: SchemaPattern.email, maxLength: 254), maxItems: 100),
                    "takeOver": .boolean, "dryRun": .boolean,
                ]
            )
        }
    }

    struct RenewBody: Codable, APISchema {
        let token: String
        static var schema: JSONSchema { .object(["token": .string(maxLength: 16384)]) }
    }

    struct TakeOverBody: Codable, APISchema {
        let confirm: Bool?
        let dryRun: Bool?
        static var schema: JSONSchema { .object([:], optional: ["confirm": .boolean, "dryRun": .boolean]) }
    }

    /// One licence Apple lists for the location, as JSON (never Swift's debug text).
    struct AssignmentRef: Encodable, APISchema {
        let adamId: String
        let pricingParam: String
        let serialNumber: String?
        let clientUserId: String?

        init(_ record: AppleAssignmentRecord) {
            adamId = record.asset.adamID
            pricingParam = record.asset.pricingParam.rawValue
            switch record.assignee {
            case .serialNumber(let serial): (serialNumber, clientUserId) = (serial, nil)
            case .clientUserID(let user): (serialNumber, clientUserId) = (nil, user)
            }
        }

        static var schema: JSONSchema {
            .object(
                ["adamId": .string, "pricingParam": .oneOf(PricingParam.self)],
                optional: ["serialNumber": .string, "clientUserId": .string]
            )
        }
    }

    struct UploadResponse: Encodable, APISchema {
        let stored: Bool
        let status: String
        let location: String
        let holder: String?
        let otherTenant: String?
        let token: TokenView?
        let takeOverRevokes: [AssignmentRef]?
        let nextStep: String

        static let schemaName = "UploadResult"
        static var schema: JSONSchema {
            .object(
                ["stored": .boolean, "status": .string, "location": .string, "nextStep": .string],
                optional: [
                    "holder": .string, "otherTenant": .string, "token": .ref(TokenView.self),
                    "takeOverRevokes": .array(.ref(AssignmentRef.self)),
                ]
            )
        }
    }

    struct PlanResponse: Encodable, APISchema {
        let applied: Bool
        let location: String
        let licencesToRevoke: Int
        let canRevokeAtApple: Bool
        let relicensed: [String]
        let uninstalls: [String]
        let appsLeaving: [String]

        static let schemaName = "RemovalPlan"
        static var schema: JSONSchema {
            .object([
                "applied": .boolean, "location": .string, "licencesToRevoke": .integer, "canRevokeAtApple": .boolean,
                "relicensed": .array(.string), "uninstalls": .array(.string), "appsLeaving": .array(.string),
            ])
        }
    }

    /// The answer to a manual sync: `started` says whether this request ran the sync or joined one
    /// already running (then the counts are absent: the running sync reports them in the token's state).
    struct SyncResponse: Encodable, APISchema {
        let started: Bool
        let assets: Int?
        let assignments: Int?
        let inserted: Int?
        let deleted: Int?
        let incremental: Bool?

        static let schemaName = "SyncResult"
        static var schema: JSONSchema {
            .object(
                ["started": .boolean.described("false: joined a sync already running; the counts are then absent")],
                optional: [
                    "assets": .integer, "assignments": .integer, "inserted": .integer, "deleted": .integer,
                    "incremental": .boolean,
                ]
            )
        }
    }

    struct TakeOverResponse: Encodable, APISchema {
        let applied: Bool
        let holder: String?
        let licencesToRevoke: Int
        let revokes: [AssignmentRef]

        static let schemaName = "TakeOverResult"
        static var schema: JSONSchema {
            .object(
                ["applied": .boolean, "licencesToRevoke": .integer, "revokes": .array(.ref(AssignmentRef.self))],
                optional: ["holder": .string]
            )
        }
    }

    static let id = APIOperation.Parameter.path("id", .uuid)

    static let operations: [APIOperation] = [
        APIOperation(
            method: .get,
            path: "/v1/tokens",
            operationID: "listTokens",
            summary: "List content tokens with their status and next step",
            access: .apiKey(.read),
            answers: [.json(200, "Tokens", .array(.ref(TokenView.self)))]
        ) { call in
            let now = call.useCases.clock.now()
            return json(
                try await call.useCases.listTokens(try call.caller()).map { TokenView($0, now: now) }
            )
        },
        APIOperation(
            method: .post,
            path: "/v1/tokens",
            operationID: "uploadToken",
            summary: "Upload a .vpptoken (validate with Apple, claim, store encrypted, queue the first sync)",
            details: "Requires the \"Application Management Full Control\" permission. A token held elsewhere is "
                + "stored but grants nothing until taken over.",
            access: .apiKey(.manageContentTokens),
            requestBody: .ref(UploadBody.self),
            answers: [
                .json(201, "Stored", .ref(UploadResponse.self)), .json(200, "Dry run", .ref(UploadResponse.self)),
            ],
            errors: [403, 409, 413, 422, 503],
            handler: upload
        ),
        APIOperation(
            method: .get,
            path: "/v1/tokens/{id}",
            operationID: "getToken",
            summary: "One token",
            access: .apiKey(.read),
            parameters: [id],
            answers: [.json(200, "Token", .ref(TokenView.self))],
            errors: [404]
        ) { call in
            guard let view = try await view(of: try tokenID(call), call) else {
                throw StoreError.unknownToken(try tokenID(call))
            }
            return json(view)
        },
        APIOperation(
            method: .delete,
            path: "/v1/tokens/{id}",
            operationID: "removeToken",
            summary:
                "Remove a token — only with confirm=true; otherwise (or with dryRun=true) the plan, nothing changed",
            access: .apiKey(.read),
            parameters: [
                id, .query("confirm", .boolean, "true removes the token (needs a token-management role)"),
                .query("dryRun", .boolean, "true only plans, even with confirm=true"),
            ],
            answers: [.json(200, "Plan (applied only with confirm=true)", .ref(PlanResponse.self))],
            errors: [403, 404],
            handler: remove
        ),
        APIOperation(
            method: .post,
            path: "/v1/tokens/{id}/renew",
            operationID: "renewToken",
            summary: "Replace the token with a new file for the same location",
            access: .apiKey(.manageContentTokens),
            parameters: [id],
            requestBody: .ref(RenewBody.self),
            answers: [.json(200, "Renewed", .ref(TokenView.self))],
            errors: [404, 422]
        ) { call in
            let body = try await call.body(RenewBody.self)
            try EdgeValidation.text(body.token, field: "token", limit: 16 * 1024)
            let renewed = try await call.useCases.renewToken(
                try call.caller(),
                tokenID: try tokenID(call),
                file: Data(body.token.utf8)
            )
            return json(try await view(of: renewed.id, call))
        },
        APIOperation(
            method: .post,
            path: "/v1/tokens/{id}/sync",
            operationID: "syncToken",
            summary: "Sync now (needs a write role); joins a sync of the token already running anywhere",
            access: .apiKey(.manageLicences),
            parameters: [id],
            answers: [
                .json(
                    200,
                    "Synced: by this request (started: true) or by the running sync it joined (started: false)",
                    .ref(SyncResponse.self)
                ),
                .json(202, "Joined a sync that is still running after 30 s (started: false)", .ref(SyncResponse.self)),
            ],
            errors: [403, 404, 409, 422],
            handler: sync
        ),
        APIOperation(
            method: .post,
            path: "/v1/tokens/{id}/take-over",
            operationID: "takeOverToken",
            summary: "Take over a token held by another MDM or Apple Configurator (needs confirm=true; dryRun "
                + "lists what is revoked)",
            access: .apiKey(.manageContentTokens),
            parameters: [id],
            requestBody: .ref(TakeOverBody.self),
            answers: [.json(200, "Result", .ref(TakeOverResponse.self))],
            errors: [404, 409, 422]
        ) { call in
            let body = try await call.body(TakeOverBody.self)
            let result = try await call.useCases.takeOverToken(
                try call.caller(),
                tokenID: try tokenID(call),
                confirm: body.confirm ?? false,
                dryRun: body.dryRun ?? false
            )
            return json(
                TakeOverResponse(
                    applied: result.applied,
                    holder: result.holder.map { "\($0)" },
                    licencesToRevoke: result.licencesToRevoke.count,
                    revokes: result.licencesToRevoke.map(AssignmentRef.init)
                )
            )
        },
    ]

    static func remove(_ call: APIOperation.Call) async throws -> Response {
        let caller = try call.caller()
        // Destructive, so the rule is explicit: only confirm=true removes; without it (or with
        // dryRun=true) the answer is the plan and nothing changes.
        let (confirm, dryRun) = (try call.query.bool("confirm"), try call.query.bool("dryRun"))
        let apply = confirm == true && dryRun != true
        let remove = call.useCases.removeToken
        let plan = try await remove.plan(caller, tokenID: try tokenID(call))
        if apply { try await remove.apply(caller, plan: plan) }
        return json(
            PlanResponse(
                applied: apply,
                location: plan.token.location.name,
                licencesToRevoke: plan.licencesToRevoke.count,
                canRevokeAtApple: plan.canRevokeAtApple,
                relicensed: plan.relicences.map { "\($0.assignee) → \($0.toLocation)" },
                uninstalls: plan.uninstalls.map { "\($0.serialNumber) \($0.adamID)" },
                appsLeaving: plan.appsLeaving.map(\.adamID)
            )
        )
    }

    /// A manual sync needs a write role (it spends the location's Apple budget) and coalesces: while a
    /// sync of the token runs anywhere (its lease is held), a request joins it instead of starting another,
    /// and answers when that sync has finished (200, `started: false`), or 202 if it is still running after
    /// ``joinWait``.
    static func sync(_ call: APIOperation.Call) async throws -> Response {
        let (caller, useCases) = (try call.caller(), call.useCases)
        let id = try tokenID(call)
        do {
            let report = try await useCases.syncToken(caller, tokenID: id)
            return json(
                SyncResponse(
                    started: true,
                    assets: report.assets,
                    assignments: report.assignmentsFromApple,
                    inserted: report.inserted,
                    deleted: report.deleted,
                    incremental: report.incremental
                )
            )
        } catch UseCaseError.syncInProgress {
            let joined = SyncResponse(
                started: false,
                assets: nil,
                assignments: nil,
                inserted: nil,
                deleted: nil,
                incremental: nil
            )
            let deadline = ContinuousClock.now + joinWait
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                // The running sync has ended when its lease can be taken (and is given straight back).
                let probe = "sync-join-\(UUID().uuidString)"
                let lease = "sync:\(id)"
                if try await useCases.store.acquireLease(
                    tenant: caller.tenantID,
                    name: lease,
                    owner: probe,
                    now: useCases.clock.now(),
                    ttl: 5
                ) {
                    try await useCases.store.releaseLease(tenant: caller.tenantID, name: lease, owner: probe)
                    return json(joined)
                }
            }
            return json(joined, status: .accepted)
        }
    }

    /// How long a request that joined a running sync waits for it to finish.
    static let joinWait: Duration = .seconds(30)

    static func upload(_ call: APIOperation.Call) async throws -> Response {
        let body = try await call.body(UploadBody.self)
        try EdgeValidation.text(body.token, field: "token", limit: 16 * 1024)
        for email in body.emails ?? [] { try EdgeValidation.text(email, field: "emails", limit: 254) }
        let result = try await call.useCases.uploadToken(
            try call.caller(),
            file: Data(body.token.utf8),
            noticeRecipients: body.emails ?? [],
            takeOver: body.takeOver ?? false,
            dryRun: body.dryRun ?? false,
            syncNow: false
        )
        var tokenView: TokenView?
        if let token = result.token, result.stored { tokenView = try await view(of: token.id, call) }
        let response = UploadResponse(
            stored: result.stored,
            status: result.status.code,
            location: result.location.name,
            holder: result.otherHolder.map { "\($0)" },
            otherTenant: result.otherTenantName,
            token: tokenView,
            takeOverRevokes: result.takeOverPreview?.map(AssignmentRef.init),
            nextStep: result.status.nextStep
        )
        return json(response, status: result.stored ? .created : .ok)
    }

    static func tokenID(_ call: APIOperation.Call) throws -> TokenID {
        let text = try call.path("id")
        // A malformed id is "not found", like another tenant's: nothing reveals which tokens exist.
        guard let id = TokenID(uuidString: text) else {
            throw StoreError.unknownToken(TokenID(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))))
        }
        return id
    }

    static func view(of id: TokenID, _ call: APIOperation.Call) async throws -> TokenView? {
        let now = call.useCases.clock.now()
        return try await call.useCases.listTokens.one(try call.caller(), id).map { TokenView($0, now: now) }
    }
}
