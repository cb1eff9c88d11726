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
    struct TakeOverBody: Decodable { let confirm: Bool?; let dryRun: Bool? }

    struct UploadResponse: Encodable {
        let stored: Bool
        let status: String
        let location: String
        let holder: String?
        let otherTenant: String?
        let token: TokenView?
        let takeOverRevokes: [String]?
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

    static func add(to group: RouterGroup<VPPRequestContext>, services: VPPServices) {
        group.get("tokens") { _, context in
            let now = services.clock.now()
            return json(try await ListTokens(services: services)(try context.requireCaller()).map { TokenView($0, now: now) })
        }
        group.post("tokens") { request, context in try await upload(request, context, services) }
        group.get("tokens/{id}") { _, context in
            guard let view = try await view(of: try tokenID(context), services: services, context: context) else {
                throw StoreError.unknownToken(try tokenID(context))
            }
            return json(view)
        }
        group.post("tokens/{id}/renew") { request, context in
            let body = try await request.decodeJSON(RenewBody.self, context: context)
            let renewed = try await RenewToken(services: services)(try context.requireCaller(), tokenID: try tokenID(context), file: Data(body.token.utf8))
            return json(try await view(of: renewed.id, services: services, context: context))
        }
        group.post("tokens/{id}/sync") { _, context in
            let report = try await SyncToken(services: services)(try context.requireCaller(), tokenID: try tokenID(context))
            return json(["assets": "\(report.assets)", "assignments": "\(report.assignmentsFromApple)", "inserted": "\(report.inserted)",
                         "deleted": "\(report.deleted)", "incremental": "\(report.incremental)"])
        }
        group.post("tokens/{id}/take-over") { request, context in
            let body = try await request.decodeJSON(TakeOverBody.self, context: context)
            let result = try await TakeOverToken(services: services)(try context.requireCaller(), tokenID: try tokenID(context),
                                                                     confirm: body.confirm ?? false, dryRun: body.dryRun ?? false)
            return json(["applied": "\(result.applied)", "holder": result.holder.map { "\($0)" } ?? "", "licencesToRevoke": "\(result.licencesToRevoke.count)"])
        }
        group.delete("tokens/{id}") { request, context in
            let caller = try context.requireCaller()
            let remove = RemoveToken(services: services)
            let plan = try await remove.plan(caller, tokenID: try tokenID(context))
            let dryRun = request.uri.queryParameters["dryRun"].map { $0 == "true" || $0 == "1" } ?? false
            if !dryRun { try await remove.apply(caller, plan: plan) }
            return json(PlanResponse(
                applied: !dryRun, location: plan.token.location.name, licencesToRevoke: plan.licencesToRevoke.count,
                canRevokeAtApple: plan.canRevokeAtApple, relicensed: plan.relicences.map { "\($0.assignee) → \($0.toLocation)" },
                uninstalls: plan.uninstalls.map { "\($0.serialNumber) \($0.adamID)" }, appsLeaving: plan.appsLeaving.map(\.adamID)))
        }
    }

    static func upload(_ request: Request, _ context: VPPRequestContext, _ services: VPPServices) async throws -> Response {
        let body = try await request.decodeJSON(UploadBody.self, context: context)
        let caller = try context.requireCaller()
        let result = try await UploadToken(services: services)(
            caller, file: Data(body.token.utf8), noticeRecipients: body.emails ?? [],
            takeOver: body.takeOver ?? false, dryRun: body.dryRun ?? false, syncNow: false)
        var tokenView: TokenView?
        if let token = result.token, result.stored { tokenView = try await view(of: token.id, services: services, context: context) }
        let response = UploadResponse(
            stored: result.stored, status: result.status.code, location: result.location.name, holder: result.otherHolder.map { "\($0)" },
            otherTenant: result.otherTenantName, token: tokenView,
            takeOverRevokes: result.takeOverPreview?.map { "\($0.asset.adamID) \($0.assignee)" }, nextStep: result.status.nextStep)
        return json(response, status: result.stored ? .created : .ok)
    }

    static func tokenID(_ context: VPPRequestContext) throws -> TokenID {
        let text = try context.parameters.require("id")
        // A malformed id is "not found", like another tenant's: nothing reveals which tokens exist.
        guard let id = TokenID(uuidString: text) else { throw StoreError.unknownToken(TokenID(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))) }
        return id
    }

    static func view(of id: TokenID, services: VPPServices, context: VPPRequestContext) async throws -> TokenView? {
        let now = services.clock.now()
        return try await ListTokens(services: services).one(try context.requireCaller(), id).map { TokenView($0, now: now) }
    }
}
