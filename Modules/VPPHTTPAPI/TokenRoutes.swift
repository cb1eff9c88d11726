import Foundation
import Hummingbird
import VPPDomain
import VPPUseCases

/// `/v1/tokens…`
enum TokenRoutes {
    struct UploadBody: Decodable {
        /// The `.vpptoken` file's content (its Base64 text).
        let token: String
        let emails: [String]?
        let takeOver: Bool?
        let dryRun: Bool?
    }

    struct RenewBody: Decodable { let token: String }
    struct TakeOverBody: Decodable {
        let confirm: Bool?
        let dryRun: Bool?
    }

    /// One licence Apple lists for the location, as JSON (never Swift's debug text).
    struct AssignmentRef: Encodable {
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
    }

    struct UploadResponse: Encodable {
        let stored: Bool
        let status: String
        let location: String
        let holder: String?
        let otherTenant: String?
        let token: TokenView?
        let takeOverRevokes: [AssignmentRef]?
        let nextStep: String
    }

    struct PlanResponse: Encodable {
        let applied: Bool
        let location: String
        let licencesToRevoke: Int
        let canRevokeAtApple: Bool
        let relicensed: [String]
        let uninstalls: [String]
        let appsLeaving: [String]
    }

    /// The answer to a manual sync: `started` says whether this request ran the sync or joined one
    /// already running (then the counts are absent: the running sync reports them in the token's state).
    struct SyncResponse: Encodable {
        let started: Bool
        let assets: Int?
        let assignments: Int?
        let inserted: Int?
        let deleted: Int?
        let incremental: Bool?
    }

    struct TakeOverResponse: Encodable {
        let applied: Bool
        let holder: String?
        let licencesToRevoke: Int
        let revokes: [AssignmentRef]
    }

    static func add(to group: RouterGroup<VPPRequestContext>, services: VPPServices) {
        group.get("tokens") { request, context in
            _ = try QueryParameters(request, declared: [])
            let now = services.clock.now()
            return json(
                try await ListTokens(services: services)(try context.requireCaller()).map { TokenView($0, now: now) })
        }
        group.post("tokens") { request, context in try await upload(request, context, services) }
        group.get("tokens/{id}") { request, context in
            _ = try QueryParameters(request, declared: [])
            guard let view = try await view(of: try tokenID(context), services: services, context: context) else {
                throw StoreError.unknownToken(try tokenID(context))
            }
            return json(view)
        }
        group.post("tokens/{id}/renew") { request, context in
            _ = try QueryParameters(request, declared: [])
            let body = try await request.decodeJSON(RenewBody.self, context: context)
            try EdgeValidation.text(body.token, field: "token", limit: 16 * 1024)
            let renewed = try await RenewToken(services: services)(
                try context.requireCaller(), tokenID: try tokenID(context), file: Data(body.token.utf8))
            return json(try await view(of: renewed.id, services: services, context: context))
        }
        group.post("tokens/{id}/sync") { request, context in
            _ = try QueryParameters(request, declared: [])
            return try await sync(context, services)
        }
        group.post("tokens/{id}/take-over") { request, context in
            _ = try QueryParameters(request, declared: [])
            let body = try await request.decodeJSON(TakeOverBody.self, context: context)
            let result = try await TakeOverToken(services: services)(
                try context.requireCaller(), tokenID: try tokenID(context),
                confirm: body.confirm ?? false, dryRun: body.dryRun ?? false)
            return json(
                TakeOverResponse(
                    applied: result.applied, holder: result.holder.map { "\($0)" },
                    licencesToRevoke: result.licencesToRevoke.count,
                    revokes: result.licencesToRevoke.map(AssignmentRef.init)))
        }
        group.delete("tokens/{id}") { request, context in
            let query = try QueryParameters(request, declared: ["dryRun", "confirm"])
            let caller = try context.requireCaller()
            // Destructive, so the rule is explicit: only confirm=true removes; without it (or with
            // dryRun=true) the answer is the plan and nothing changes.
            let (confirm, dryRun) = (try query.bool("confirm"), try query.bool("dryRun"))
            let apply = confirm == true && dryRun != true
            let remove = RemoveToken(services: services)
            let plan = try await remove.plan(caller, tokenID: try tokenID(context))
            if apply { try await remove.apply(caller, plan: plan) }
            return json(
                PlanResponse(
                    applied: apply, location: plan.token.location.name, licencesToRevoke: plan.licencesToRevoke.count,
                    canRevokeAtApple: plan.canRevokeAtApple,
                    relicensed: plan.relicences.map { "\($0.assignee) → \($0.toLocation)" },
                    uninstalls: plan.uninstalls.map { "\($0.serialNumber) \($0.adamID)" },
                    appsLeaving: plan.appsLeaving.map(\.adamID)))
        }
    }

    /// A manual sync needs a write role (it spends the location's Apple budget) and coalesces: while a
    /// sync of the token runs anywhere (its lease is held), a request joins it instead of starting another,
    /// and answers when that sync has finished (200, `started: false`), or 202 if it is still running after
    /// ``joinWait``.
    static func sync(_ context: VPPRequestContext, _ services: VPPServices) async throws -> Response {
        let caller = try context.requireCaller()
        try caller.require(.manageLicences)
        let id = try tokenID(context)
        do {
            let report = try await SyncToken(services: services)(caller, tokenID: id)
            return json(
                SyncResponse(
                    started: true, assets: report.assets, assignments: report.assignmentsFromApple,
                    inserted: report.inserted, deleted: report.deleted, incremental: report.incremental))
        } catch UseCaseError.syncInProgress {
            let joined = SyncResponse(
                started: false, assets: nil, assignments: nil, inserted: nil, deleted: nil, incremental: nil)
            let deadline = ContinuousClock.now + joinWait
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                // The running sync has ended when its lease can be taken (and is given straight back).
                let probe = "sync-join-\(UUID().uuidString)"
                let lease = "sync:\(id)"
                if try await services.store.acquireLease(
                    tenant: caller.tenantID, name: lease, owner: probe,
                    now: services.clock.now(), ttl: 5)
                {
                    try await services.store.releaseLease(tenant: caller.tenantID, name: lease, owner: probe)
                    return json(joined)
                }
            }
            return json(joined, status: .accepted)
        }
    }

    /// How long a request that joined a running sync waits for it to finish.
    static let joinWait: Duration = .seconds(30)

    static func upload(
        _ request: Request, _ context: VPPRequestContext, _ services: VPPServices
    ) async throws -> Response {
        _ = try QueryParameters(request, declared: [])
        let body = try await request.decodeJSON(UploadBody.self, context: context)
        try EdgeValidation.text(body.token, field: "token", limit: 16 * 1024)
        for email in body.emails ?? [] { try EdgeValidation.text(email, field: "emails", limit: 254) }
        let caller = try context.requireCaller()
        let result = try await UploadToken(services: services)(
            caller, file: Data(body.token.utf8), noticeRecipients: body.emails ?? [],
            takeOver: body.takeOver ?? false, dryRun: body.dryRun ?? false, syncNow: false)
        var tokenView: TokenView?
        if let token = result.token, result.stored {
            tokenView = try await view(of: token.id, services: services, context: context)
        }
        let response = UploadResponse(
            stored: result.stored, status: result.status.code, location: result.location.name,
            holder: result.otherHolder.map { "\($0)" }, otherTenant: result.otherTenantName, token: tokenView,
            takeOverRevokes: result.takeOverPreview?.map(AssignmentRef.init), nextStep: result.status.nextStep)
        return json(response, status: result.stored ? .created : .ok)
    }

    static func tokenID(_ context: VPPRequestContext) throws -> TokenID {
        let text = try context.parameters.require("id")
        // A malformed id is "not found", like another tenant's: nothing reveals which tokens exist.
        guard let id = TokenID(uuidString: text) else {
            throw StoreError.unknownToken(TokenID(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))))
        }
        return id
    }

    static func view(of id: TokenID, services: VPPServices, context: VPPRequestContext) async throws -> TokenView? {
        let now = services.clock.now()
        return try await ListTokens(services: services).one(try context.requireCaller(), id).map {
            TokenView($0, now: now)
        }
    }
}
