import Foundation
import HTTPTypes
import Hummingbird
import VPPDomain
import VPPUseCases

/// `/v1/groups…`, `/v1/scopes…`, `/v1/apps/{adamId}/alerts` and `/forecast`: desired state.
enum ScopeRoutes {
    static let namePattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
    static let name = APIOperation.Parameter.path("name", .string(pattern: namePattern))
    static let dryRun = APIOperation.Parameter.query("dryRun", .boolean, "true: answer the plan, change nothing")

    /// Members of a group or a scope, named by serial number or client user id.
    struct MembersBody: Codable, APISchema {
        let serialNumbers: [String]?
        let clientUserIds: [String]?

        static let schemaName = "GroupMembers"
        static var schema: JSONSchema {
            .object(
                [:],
                optional: [
                    "serialNumbers": .array(.ref(SerialNumberSchema.self), maxItems: 100_000, unique: true),
                    "clientUserIds": .array(.ref(ClientUserIDSchema.self), maxItems: 100_000, unique: true),
                ]
            )
        }

        func assignees() throws -> [Assignee] {
            try LicenceRoutes.AssigneesBody(
                serialNumbers: serialNumbers,
                clientUserIds: clientUserIds,
                pricingParam: nil
            )
            .assignees()
        }
    }

    struct DynamicBody: Codable {
        let enrolled: Bool?
        let platforms: [String]?
        let modelPrefix: String?
    }

    struct GroupBody: Codable, APISchema {
        let serialNumbers: [String]?
        let clientUserIds: [String]?
        let dynamic: DynamicBody?

        static let schemaName = "GroupDefinition"
        static var schema: JSONSchema {
            .object(
                [:],
                optional: [
                    "serialNumbers": .array(.ref(SerialNumberSchema.self), maxItems: 100_000, unique: true),
                    "clientUserIds": .array(.ref(ClientUserIDSchema.self), maxItems: 100_000, unique: true),
                    "dynamic": .object(
                        [:],
                        optional: [
                            "enrolled": .boolean.described("Only true: every enrolled device"),
                            "platforms": .array(.oneOf(DeviceOSFamily.self), unique: true),
                            "modelPrefix": .string(pattern: "^[A-Za-z0-9,-]{1,32}$"),
                        ]
                    ),
                ]
            ).described("Written members (replacing the current ones), or dynamic: the enrolled devices")
        }
    }

    struct ScopeBody: Codable, APISchema {
        let adamId: String
        let pricingParam: String?
        let groups: [String]?
        let serialNumbers: [String]?
        let clientUserIds: [String]?
        let priority: Int?
        let removalGraceSeconds: Int?
        let uninstallOnRemoval: Bool?
        let mode: String?
        let install: String?
        let version: Int?
        let automaticUpdates: String?

        static let schemaName = "ScopeDefinition"
        static var schema: JSONSchema {
            .object(
                ["adamId": .ref(AdamIDSchema.self)],
                optional: [
                    "pricingParam": .oneOf(PricingParam.self),
                    "groups": .array(.string(pattern: namePattern), maxItems: 1000, unique: true),
                    "serialNumbers": .array(.ref(SerialNumberSchema.self), maxItems: 100_000, unique: true),
                    "clientUserIds": .array(.ref(ClientUserIDSchema.self), maxItems: 100_000, unique: true),
                    "priority": .integer(minimum: -1_000_000, maximum: 1_000_000, default: 0),
                    "removalGraceSeconds": .integer(minimum: 0, maximum: 31_536_000, default: 86_400),
                    "uninstallOnRemoval": .boolean,
                    "mode": .oneOf(ScopeDeliveryMode.self),
                    "install": .oneOf(AppInstallPolicy.self).described(
                        "The declaration's InstallBehavior.Install (default Required)"
                    ),
                    "version": .integer(minimum: 1, maximum: 9_007_199_254_740_991).described(
                        "Pins the app to this external version id (InstallBehavior.Version); not with automaticUpdates"
                    ),
                    "automaticUpdates": .oneOf(AutomaticAppUpdates.self).described(
                        "UpdateBehavior.AutomaticAppUpdates; not with version"
                    ),
                ]
            )
        }

        func scope(_ name: ScopeName) throws -> AppScope {
            try EdgeValidation.adamID(adamId, field: "adamId")
            let members = try MembersBody(serialNumbers: serialNumbers, clientUserIds: clientUserIds).assignees()
            let modeValue = mode ?? "install"
            guard let mode = ScopeDeliveryMode(rawValue: modeValue) else {
                throw DesiredStateError.modeNotAvailable(modeValue)
            }
            let installValue = install ?? AppInstallPolicy.required.rawValue
            guard let installPolicy = AppInstallPolicy(rawValue: installValue) else {
                throw InvalidInput(
                    code: .outOfRange,
                    field: "install",
                    detail: "\(installValue.prefix(40)) is not one of Required, Optional"
                )
            }
            var updates: AutomaticAppUpdates?
            if let automaticUpdates {
                guard let known = AutomaticAppUpdates(rawValue: automaticUpdates) else {
                    throw InvalidInput(
                        code: .outOfRange,
                        field: "automaticUpdates",
                        detail: "\(automaticUpdates.prefix(40)) is not one of AlwaysOn, AlwaysOff, StoreSettings"
                    )
                }
                updates = known
            }
            let terms = try DeclarationTerms(install: installPolicy, version: version, automaticUpdates: updates)
            return try AppScope(
                name: name,
                asset: AssetKey(adamID: adamId, pricingParam: try EdgeValidation.pricingParam(pricingParam)),
                groups: try (groups ?? []).map { try GroupName($0) },
                serialNumbers: members.compactMap { if case .device(let s) = $0 { s } else { nil } },
                clientUserIDs: members.compactMap { if case .user(let u) = $0 { u } else { nil } },
                priority: priority ?? 0,
                removalGraceSeconds: removalGraceSeconds ?? AppScope.defaultRemovalGraceSeconds,
                uninstallOnRemoval: uninstallOnRemoval ?? true,
                mode: mode,
                declaration: terms
            )
        }
    }

    struct AlertBody: Codable, APISchema {
        let below: Int?
        let belowPercent: Int?
        let pricingParam: String?

        static let schemaName = "AlertLevel"
        static var schema: JSONSchema {
            .object(
                [:],
                optional: [
                    "below": .integer(minimum: 0, maximum: 10_000_000),
                    "belowPercent": .integer(minimum: 1, maximum: 100),
                    "pricingParam": .oneOf(PricingParam.self),
                ]
            )
        }
    }

    static func groupName(_ call: APIOperation.Call) throws -> GroupName { try GroupName(try call.path("name")) }
    static func scopeName(_ call: APIOperation.Call) throws -> ScopeName { try ScopeName(try call.path("name")) }

    static func manage(_ call: APIOperation.Call) -> ManageDesiredState { call.useCases.manageDesiredState }

    static func limit(_ call: APIOperation.Call) throws -> Int { try ListingAnswer.limit(call.query) }

    static let operations: [APIOperation] = groupOperations + scopeOperations + appOperations

    static let groupOperations: [APIOperation] = [
        APIOperation(
            method: .put,
            path: "/v1/groups/{name}",
            operationID: "putGroup",
            summary: "Create or replace a group: written members, or dynamic (every enrolled device, by platform or "
                + "model prefix)",
            access: .apiKey(.manageLicences),
            parameters: [name],
            requestBody: .ref(GroupBody.self),
            answers: [.json(200, "The group", .ref(GroupView.self))],
            errors: [422]
        ) { call in
            let body = try await call.body(GroupBody.self)
            var dynamic: DynamicMembership?
            if let given = body.dynamic {
                guard given.enrolled != false, body.serialNumbers == nil, body.clientUserIds == nil else {
                    throw InvalidInput(
                        code: .outOfRange,
                        field: "dynamic",
                        detail: "a dynamic group has no written members and follows enrolled devices (enrolled: true)"
                    )
                }
                let platforms = try (given.platforms ?? []).map { text in
                    guard let family = DeviceOSFamily(rawValue: text) else {
                        throw InvalidInput(
                            code: .outOfRange,
                            field: "dynamic.platforms",
                            detail: "\(text.prefix(40)) is not one of iOS, iPadOS, macOS, tvOS, visionOS"
                        )
                    }
                    return family
                }
                dynamic = try DynamicMembership(platforms: Set(platforms), modelPrefix: given.modelPrefix)
            }
            let members = try MembersBody(serialNumbers: body.serialNumbers, clientUserIds: body.clientUserIds)
                .assignees()
            let record = try await manage(call).putGroup(
                try call.caller(),
                try groupName(call),
                members: members,
                dynamic: dynamic
            )
            return json(GroupView(record))
        },
        editMembers(adding: true, operationID: "addGroupMembers", summary: "Add members to a group"),
        editMembers(
            adding: false,
            operationID: "removeGroupMembers",
            summary: "Remove members from a group (their licences follow the scopes' removal policy)"
        ),
        APIOperation(
            method: .get,
            path: "/v1/groups",
            operationID: "listGroups",
            summary: "Groups by name",
            access: .apiKey(.read),
            answers: [.json(200, "Groups", .array(.ref(GroupView.self)))]
        ) { call in json(try await manage(call).groups(try call.caller()).map(GroupView.init)) },
        APIOperation(
            method: .get,
            path: "/v1/groups/{name}",
            operationID: "showGroup",
            summary: "A group and one page of its members (`after`: the previous page's next)",
            access: .apiKey(.read),
            parameters: [name] + ListingAnswer.pageParameters,
            answers: [.json(200, "The group", .ref(GroupPage.self))],
            errors: [400, 404, 422]
        ) { call in
            let limit = try limit(call)
            let (record, members) = try await manage(call).group(
                try call.caller(),
                try groupName(call),
                after: try ListingAnswer.after(call.query),
                limit: limit
            )
            return json(
                GroupPage(
                    group: GroupView(record),
                    members: members.map(MemberView.init),
                    next: members.count == limit ? members.last?.sortKey : nil
                )
            )
        },
        APIOperation(
            method: .delete,
            path: "/v1/groups/{name}",
            operationID: "deleteGroup",
            summary: "Delete a group no scope names",
            access: .apiKey(.manageLicences),
            parameters: [name],
            answers: [Answer(status: 204, description: "Deleted", bodies: [])],
            errors: [404, 409, 422]
        ) { call in
            try await manage(call).deleteGroup(try call.caller(), try groupName(call))
            return Response(status: .noContent)
        },
    ]

    /// `POST` (add) or `DELETE` (remove) `/v1/groups/{name}/members`: one definition for both directions.
    static func editMembers(adding: Bool, operationID: String, summary: String) -> APIOperation {
        APIOperation(
            method: adding ? .post : .delete,
            path: "/v1/groups/{name}/members",
            operationID: operationID,
            summary: summary,
            access: .apiKey(.manageLicences),
            parameters: [name],
            requestBody: .ref(MembersBody.self),
            answers: [.json(200, "The group", .ref(GroupView.self))],
            errors: [404, 422]
        ) { call in
            let body = try await call.body(MembersBody.self)
            let record = try await manage(call).editMembers(
                try call.caller(),
                try groupName(call),
                adding: adding,
                try body.assignees()
            )
            return json(GroupView(record))
        }
    }

    typealias Answer = APIOperation.Answer

    static let scopeOperations: [APIOperation] = [
        APIOperation(
            method: .put,
            path: "/v1/scopes/{name}",
            operationID: "putScope",
            summary: "Create or replace an app scope; dryRun=true answers the plan and changes nothing",
            access: .apiKey(.manageLicences),
            parameters: [name, dryRun],
            requestBody: .ref(ScopeBody.self),
            answers: [
                .json(200, "The plan (dry run: nothing stored)", .ref(ScopeChangeView.self)),
                .json(202, "Stored; the plan is being carried out", .ref(ScopeChangeView.self)),
            ],
            errors: [400, 404, 422]
        ) { call in
            let dry = try call.query.bool("dryRun") ?? false
            let body = try await call.body(ScopeBody.self)
            let change = try await manage(call).putScope(
                try call.caller(),
                try body.scope(try scopeName(call)),
                dryRun: dry
            )
            return json(ScopeChangeView(change), status: dry ? .ok : .accepted)
        },
        APIOperation(
            method: .get,
            path: "/v1/scopes",
            operationID: "listScopes",
            summary: "Scopes with desired, licensed, waiting and the plan",
            access: .apiKey(.read),
            answers: [.json(200, "Scopes", .array(.ref(ScopeView.self)))]
        ) { call in
            json(try await manage(call).scopes(try call.caller()).map { ScopeView($0.scope, status: $0) })
        },
        APIOperation(
            method: .get,
            path: "/v1/scopes/{name}",
            operationID: "showScope",
            summary: "A scope with desired, licensed, waiting, pendingRemoval and the plan",
            access: .apiKey(.read),
            parameters: [name],
            answers: [.json(200, "The scope", .ref(ScopeView.self))],
            errors: [404, 422]
        ) { call in
            let status = try await manage(call).scope(try call.caller(), try scopeName(call))
            return json(ScopeView(status.scope, status: status))
        },
        APIOperation(
            method: .get,
            path: "/v1/scopes/{name}/waitlist",
            operationID: "scopeWaitlist",
            summary: "The scope's waiting devices and users with their positions in the app's queue",
            access: .apiKey(.read),
            parameters: [name] + ListingAnswer.pageParameters,
            answers: [.json(200, "Waitlist", .ref(WaitlistPage.self))],
            errors: [400, 404, 422]
        ) { call in
            let limit = try limit(call)
            let afterText = try ListingAnswer.after(call.query)
            guard let after = afterText.map({ Int($0) }) ?? 0, after >= 0 else {
                throw BadQueryParameter(name: "after", value: afterText ?? "", allowed: ["a position"])
            }
            let entries = try await manage(call).waitlist(
                try call.caller(),
                try scopeName(call),
                after: after,
                limit: limit
            )
            return json(
                WaitlistPage(
                    entries: entries.map(WaitlistEntryView.init),
                    next: entries.count == limit ? entries.last.map { "\($0.position)" } : nil
                )
            )
        },
        APIOperation(
            method: .delete,
            path: "/v1/scopes/{name}",
            operationID: "deleteScope",
            summary: "Delete a scope (its licences follow its removal policy); dryRun=true previews",
            access: .apiKey(.manageLicences),
            parameters: [name, dryRun],
            answers: [
                .json(200, "The plan (dry run: nothing changed)", .ref(ScopeChangeView.self)),
                .json(202, "Deleted; the plan is being carried out", .ref(ScopeChangeView.self)),
            ],
            errors: [404, 422]
        ) { call in
            let dry = try call.query.bool("dryRun") ?? false
            let change = try await manage(call).deleteScope(try call.caller(), try scopeName(call), dryRun: dry)
            return json(ScopeChangeView(change), status: dry ? .ok : .accepted)
        },
    ]

    static let appOperations: [APIOperation] = [
        APIOperation(
            method: .put,
            path: "/v1/apps/{adamId}/alerts",
            operationID: "setAppAlert",
            summary: "Alert when fewer than `below` licences (or `belowPercent` of the total) are left",
            access: .apiKey(.manageLicences),
            parameters: [LicenceRoutes.adamIdParameter],
            requestBody: .ref(AlertBody.self),
            answers: [.json(200, "The alert level", .ref(AlertView.self))],
            errors: [404, 422]
        ) { call in
            let body = try await call.body(AlertBody.self)
            let adamID = try call.path("adamId")
            try EdgeValidation.adamID(adamID, field: "adamId")
            let asset = AssetKey(adamID: adamID, pricingParam: try EdgeValidation.pricingParam(body.pricingParam))
            let alert = try await call.useCases.appForecast.setAlert(
                try call.caller(),
                asset,
                below: body.below,
                belowPercent: body.belowPercent
            )
            return json(AlertView(adamId: adamID, below: alert.below, belowPercent: alert.belowPercent))
        },
        APIOperation(
            method: .get,
            path: "/v1/apps/{adamId}/forecast",
            operationID: "appForecast",
            summary: "Licences left, devices waiting, net grants per day (30 days) and when the pool runs out",
            access: .apiKey(.read),
            parameters: [
                LicenceRoutes.adamIdParameter, .query("pricingParam", .oneOf(PricingParam.self), "Default STDQ"),
            ],
            answers: [.json(200, "Forecast", .ref(ForecastView.self))],
            errors: [400, 404]
        ) { call in
            let adamID = try call.path("adamId")
            try EdgeValidation.adamID(adamID, field: "adamId")
            let pricing = try call.query.value("pricingParam", as: PricingParam.self) ?? .standard
            let asset = AssetKey(adamID: adamID, pricingParam: pricing)
            let caller = try call.caller()
            let waiting = try await manage(call).waiting(caller, asset)
            return json(ForecastView(try await call.useCases.appForecast(caller, asset, waiting: waiting)))
        },
    ]
}

extension MemberView: APISchema {
    public static let schemaName = "Member"
    public static var schema: JSONSchema { .object([:], optional: ["serialNumber": .string, "clientUserId": .string]) }
}

extension GroupView: APISchema {
    public static let schemaName = "Group"
    public static var schema: JSONSchema {
        .object(
            ["name": .string, "dynamic": .boolean, "memberCount": .integer, "updatedAt": .dateTime],
            optional: ["platforms": .array(.string), "modelPrefix": .string]
        )
    }
}

extension GroupPage: APISchema {
    public static let schemaName = "GroupPage"
    public static var schema: JSONSchema {
        .object(
            ["group": .ref(GroupView.self), "members": .array(.ref(MemberView.self))],
            optional: ["next": .string.described("Pass as after for the next page; absent on the last page")]
        )
    }
}

extension PlanView: APISchema {
    public static let schemaName = "ReconcilePlan"
    public static var schema: JSONSchema {
        .object([
            "add": .integer, "remove": .integer, "wait": .integer, "keep": .integer, "pendingRemoval": .integer,
            "unmanaged": .integer, "excluded": .integer,
        ]).described("What reconciling the app does: every scope of the app together")
    }
}

extension ScopeView: APISchema {
    public static let schemaName = "Scope"
    public static var schema: JSONSchema {
        .object(
            [
                "name": .string, "adamId": .string, "pricingParam": .string, "mode": .string,
                "groups": .array(.string), "serialNumbers": .array(.string), "clientUserIds": .array(.string),
                "priority": .integer, "removalGraceSeconds": .integer, "uninstallOnRemoval": .boolean,
                "install": .oneOf(AppInstallPolicy.self),
            ],
            optional: [
                "version": .integer, "automaticUpdates": .oneOf(AutomaticAppUpdates.self),
                "desired": .integer, "licensed": .integer, "waiting": .integer, "pendingRemoval": .integer,
                "plan": .ref(PlanView.self),
            ]
        )
    }
}

extension ScopeChangeView: APISchema {
    public static let schemaName = "ScopeChange"
    public static var schema: JSONSchema {
        .object(["scope": .ref(ScopeView.self), "plan": .ref(PlanView.self), "dryRun": .boolean])
    }
}

extension WaitlistEntryView: APISchema {
    public static let schemaName = "WaitlistEntry"
    public static var schema: JSONSchema {
        .object(
            ["position": .integer, "scope": .string, "priority": .integer],
            optional: ["serialNumber": .string, "clientUserId": .string, "since": .dateTime]
        )
    }
}

extension WaitlistPage: APISchema {
    public static let schemaName = "WaitlistPage"
    public static var schema: JSONSchema {
        .object(
            ["entries": .array(.ref(WaitlistEntryView.self))],
            optional: ["next": .string.described("Pass as after for the next page; absent on the last page")]
        )
    }
}

extension AlertView: APISchema {
    public static let schemaName = "Alert"
    public static var schema: JSONSchema {
        .object(["adamId": .string], optional: ["below": .integer, "belowPercent": .integer])
    }
}

extension ForecastView: APISchema {
    public static let schemaName = "Forecast"
    public static var schema: JSONSchema {
        .object(
            [
                "adamId": .string, "total": .integer, "available": .integer, "waiting": .integer,
                "netPerDay": JSONSchema(["type": .text("number")]), "belowAlert": .boolean, "summary": .string,
            ],
            optional: ["name": .string, "exhaustsOn": .dateTime]
        )
    }
}
