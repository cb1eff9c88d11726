import Foundation
import Logging
import VPPDomain

/// Heals a device that reported `Error.LicenseNotFound` for one of vpp's declarations: asks Apple whether the
/// licence exists (a filtered assignment query for the device's serial and the app, its answer matched against
/// what was asked), re-associates it through the ledger when it does not (the licence goes back to `reserved`: the
/// same durable intent ``AssignLicences`` makes), and has the declaration re-published with a new ServerToken so
/// the device evaluates it again — only once Apple has confirmed the licence (``LicenceLedger``).
///
/// The heal was claimed in the store by ``RecordDeviceStatus`` (one conditional update per join and report, at most
/// ``maxAttempts``), so two servers that receive the same report heal it once; this use case carries out a claim.
public struct HealLicenceNotFound: Sendable {
    let store: any Store
    let clock: any Clock
    let apple: any AppleAppsAndBooks
    let tokenCredentials: TokenCredentials
    let intentScheduler: (any IntentScheduler)?
    let intentWorker: CarryOutAppleIntents
    let logger: Logger
    /// How long a server may hold a heal before another may take it over (the Apple query and the re-association's
    /// wait are bounded well below it).
    public let lease: TimeInterval = 300
    /// How long a re-association may take at Apple before another report may try again.
    public let reassociationLease: TimeInterval = 3600
    /// Heals per join before the install is marked failed (`VPP_DECLARATION_HEAL_ATTEMPTS`).
    public let maxAttempts: Int
    /// Without an intent scheduler (tests, the CLI), how long to wait for Apple's confirmation inline.
    public let waitForApple: Duration = .seconds(20)

    /// Takes only what this use case touches.
    public init(
        store: any Store,
        clock: any Clock,
        apple: any AppleAppsAndBooks,
        tokenCredentials: TokenCredentials,
        intentScheduler: (any IntentScheduler)?,
        intentWorker: CarryOutAppleIntents,
        logger: Logger,
        maxAttempts: Int = 3
    ) {
        self.store = store
        self.clock = clock
        self.apple = apple
        self.tokenCredentials = tokenCredentials
        self.intentScheduler = intentScheduler
        self.intentWorker = intentWorker
        self.logger = logger
        self.maxAttempts = maxAttempts
    }

    /// What became of one heal.
    public enum Result: String, Hashable, Sendable, Codable, CaseIterable {
        /// Apple had no licence: asked again through the ledger; re-published once Apple confirms.
        case reassociating
        /// Apple holds the licence (the device evaluated too early, or Apple re-confirmed it): re-published.
        case republishing
        /// Another server (or an earlier copy of this report) is healing it.
        case alreadyHealing = "already-healing"
        /// The attempts are used up: the install shows failed with Apple's and the device's reasons.
        case gaveUp = "gave-up"
        /// Apple could not be asked, or the licence cannot be re-associated: the install shows failed.
        case failed
    }

    /// Carries out a heal claimed for `join` (the device's join for the app).
    public func heal(_ tenantID: TenantID, _ join: DeclarationSetChangeRecord) async -> Result {
        do {
            return try await carryOut(tenantID, join)
        } catch {
            logger.warning(
                "healing LicenseNotFound failed",
                metadata: ["tenant": "\(tenantID)", "serial": "\(join.change.serialNumber)", "error": "\(error)"]
            )
            // The claim's lease runs out, so a later report may try again (counted against the attempts).
            try? await store.inTenant(tenantID) { tx in
                try await tx.updateHeal(
                    join.change.id,
                    step: .asking,
                    error: "Apple could not be asked: \(String("\(error)".prefix(200)))",
                    until: clock.now()
                )
            }
            return .failed
        }
    }

    func carryOut(_ tenantID: TenantID, _ join: DeclarationSetChangeRecord) async throws -> Result {
        let change = join.change
        let licence = try await store.inTenant(tenantID) { tx in
            try await tx.assignments(AssignmentQuery(ids: [change.assignmentID])).first
        }
        guard let licence, case .active = licence.state else {
            let state = licence?.state.code ?? "gone"
            try await store.inTenant(tenantID) { tx in
                try await tx.updateHeal(
                    change.id,
                    step: .failed,
                    error: "device: Error.LicenseNotFound; vpp: the licence is \(state), not active",
                    until: nil
                )
            }
            return .failed
        }
        // Ask Apple about this serial and this app only, and read the answer rather than trust it.
        // A user licence's join names the user, not a device.
        let filter = AppleAssignmentFilter(
            adamID: change.asset.adamID,
            pricingParam: change.asset.pricingParam,
            serialNumber: change.clientUserID == nil ? change.serialNumber : nil,
            clientUserID: change.clientUserID?.value
        )
        let credentials = try await tokenCredentials.open(tenantID, licence.grantingToken)
        let records = try await apple.assignments(credentials, filter: filter).items
        let held = records.contains(where: filter.matches)
        let now = clock.now()
        guard !held else {
            let kind = change.licenceKind
            try await store.inTenant(tenantID) { tx in
                try await tx.updateHeal(change.id, step: .asking, error: "Apple: the licence exists", until: nil)
                try await tx.requestRepublish(asset: change.asset, kind: kind, joins: [change.id], now: now)
            }
            return .republishing
        }
        // Apple lost it: back to `reserved`, the durable intent to associate, carried out as any assignment.
        let moved = try await store.inTenant(tenantID) { tx in
            guard try await tx.requeueAssociation(licence.id, now: now) else { return false }
            try await tx.updateHeal(
                change.id,
                step: .reassociating,
                error: "Apple: no licence for \(change.enrollee); asked again",
                until: now.addingTimeInterval(reassociationLease)
            )
            return true
        }
        guard moved else { return .alreadyHealing }
        let group = IntentGroup(
            tenantID: tenantID,
            tokenID: licence.grantingToken,
            asset: licence.asset,
            state: .reserved
        )
        if let intentScheduler {
            intentScheduler.intentsQueued(group)
        } else {
            _ = try await intentWorker.carryOut(group, waitingFor: [licence.id], timeout: waitForApple)
        }
        return .reassociating
    }
}
