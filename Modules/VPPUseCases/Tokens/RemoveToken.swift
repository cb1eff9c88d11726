import Foundation
import VPPDomain

/// What removing a token will do. Apply carries out exactly this.
public struct RemovalPlan: Sendable {
    public struct Relicence: Sendable, Hashable {
        public let assignee: Assignee
        public let asset: AssetKey
        public let toToken: TokenID
        public let toLocation: String
    }

    public let token: ContentToken
    /// Apps no other token carries: they leave the repository.
    public let appsLeaving: [AssetKey]
    /// Licences granted by this token, revoked at Apple while the token still works.
    public let licencesToRevoke: [Assignment]
    /// Devices that keep the app, licensed from another token with licences left.
    public let relicences: [Relicence]
    /// Devices that have the app installed and lose it: they get RemoveApplication.
    public let uninstalls: [DeviceCommand]
    /// Devices that got the app by declaration and lose it: they leave the app's declaration set instead of
    /// getting a RemoveApplication (which fails for an app Declarative Device Management manages).
    public let leaves: [DeclarationSetChange]
    /// False when the token no longer works at Apple (expired, revoked, …): its licences cannot be revoked there.
    public let canRevokeAtApple: Bool
}

/// Remove a token safely: plan (dry run) first, then apply exactly the plan.
public struct RemoveToken: Sendable {
    let store: any Store
    let clock: any Clock
    let apple: any AppleAppsAndBooks
    let tokenCredentials: TokenCredentials
    let auditTrail: AuditTrail
    let poolReader: LicencePoolReader
    let assign: AssignLicences

    /// Takes only what this use case touches.
    public init(
        store: any Store,
        clock: any Clock,
        apple: any AppleAppsAndBooks,
        tokenCredentials: TokenCredentials,
        auditTrail: AuditTrail,
        poolReader: LicencePoolReader,
        assign: AssignLicences
    ) {
        self.store = store
        self.clock = clock
        self.apple = apple
        self.tokenCredentials = tokenCredentials
        self.auditTrail = auditTrail
        self.poolReader = poolReader
        self.assign = assign
    }

    public func plan(_ caller: Caller, tokenID: TokenID) async throws -> RemovalPlan {
        try caller.require(.read)
        let now = clock.now()
        let ours = try await tokenCredentials.holder(of: caller.tenantID)
        return try await store.inTenant(caller.tenantID) { tx in
            guard let token = try await tx.token(tokenID) else { throw StoreError.unknownToken(tokenID) }
            let allCounts = try await tx.counts(tokenID: nil)
            let mine = Set(allCounts.filter { $0.tokenID == tokenID }.map(\.asset))
            let elsewhere = Set(allCounts.filter { $0.tokenID != tokenID }.map(\.asset))
            let held = try await tx.assignments(AssignmentQuery(tokenID: tokenID, states: AssignmentState.Code.holding))
            // Only the devices holding the token's licences, not the inventory.
            let serials = held.compactMap { if case .device(let serial) = $0.assignee { serial } else { nil } }
            let devices = Dictionary(
                try await tx.devices(serials).map { ($0.serialNumber, $0) },
                uniquingKeysWith: { a, _ in a }
            )
            var pools: [AssetKey: [(tokenID: TokenID, location: String, left: Int)]] = [:]
            for asset in Set(held.map(\.asset)) {
                pools[asset] = try await poolReader.pool(tx, asset, ours: ours).grantingOrder
                    .filter { $0.tokenID != tokenID }.map { ($0.tokenID, $0.locationName, $0.counts.available) }
            }
            var relicences: [RemovalPlan.Relicence] = []
            var uninstalls: [DeviceCommand] = []
            var leaves: [DeclarationSetChange] = []
            let joined = try await tx.joinedLicences(held.map(\.id))
            for assignment in held {
                if var candidates = pools[assignment.asset], let index = candidates.firstIndex(where: { $0.left > 0 }) {
                    relicences.append(
                        .init(
                            assignee: assignment.assignee,
                            asset: assignment.asset,
                            toToken: candidates[index].tokenID,
                            toLocation: candidates[index].location
                        )
                    )
                    candidates[index].left -= 1
                    pools[assignment.asset] = candidates
                } else if joined.contains(assignment.id) {
                    // A device's or a user's enrollment that joined the app's set leaves it.
                    leaves.append(DeclarationSetChange(for: assignment, kind: .leave, createdAt: now))
                } else if case .device(let serial) = assignment.assignee,
                    devices[serial]?.hasInstalled(assignment.asset) == true
                {
                    uninstalls.append(
                        DeviceCommand(
                            serialNumber: serial.value,
                            kind: .removeApplication,
                            adamID: assignment.asset.adamID,
                            createdAt: now
                        )
                    )
                }
            }
            let status = token.status(at: now, ourHolder: ours)
            return RemovalPlan(
                token: token,
                appsLeaving: mine.subtracting(elsewhere).sorted(),
                licencesToRevoke: held,
                relicences: relicences,
                uninstalls: uninstalls,
                leaves: leaves,
                canRevokeAtApple: status.isUsable
            )
        }
    }

    /// Carries out `plan`: revocations at Apple (when the token works), re-licensing from other tokens,
    /// uninstall commands, then the token's rows go.
    public func apply(_ caller: Caller, plan: RemovalPlan) async throws {
        try caller.require(.manageContentTokens)
        let tokenID = plan.token.id
        if plan.canRevokeAtApple, !plan.licencesToRevoke.isEmpty {
            let credentials = try await tokenCredentials.open(caller.tenantID, tokenID)
            for (asset, group) in Dictionary(
                grouping: plan.licencesToRevoke.filter { $0.state == .active },
                by: \.asset
            ) {
                _ = try await apple.disassociate(
                    credentials,
                    assets: [asset],
                    serialNumbers: group.map(\.assignee).serialNumberTexts,
                    clientUserIDs: group.map(\.assignee).clientUserIDTexts
                )
            }
        }
        try await store.inTenant(caller.tenantID) { tx in
            try await tx.enqueueDeviceCommands(plan.uninstalls)
            try await tx.enqueueDeclarationSetChanges(plan.leaves)
            try await tx.deleteToken(tokenID)
            _ = try await tx.deleteOrphanApps()
            try await auditTrail.record(
                tx,
                caller,
                AuditEntry(
                    .tokenRemove,
                    .token(location: plan.token.location.name),
                    .ok,
                    "\(plan.licencesToRevoke.count) licence(s) revoked, \(plan.relicences.count) re-licensed, "
                        + "\(plan.uninstalls.count) uninstall(s), \(plan.leaves.count) declaration leave(s)"
                )
            )
        }
        // Devices that keep their app get a licence from the other token (they already have the app: no install
        // needed).
        for (asset, group) in Dictionary(grouping: plan.relicences, by: \.asset) {
            _ = try await assign(caller, asset: asset, to: group.map(\.assignee))
        }
    }
}
