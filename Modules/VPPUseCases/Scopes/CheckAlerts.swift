import Foundation
import VPPDomain

/// Compares each app's pool with its alert level and queues one e-mail notice per crossing (the existing notice
/// outbox delivers it), to the addresses of the tokens that carry the app. The crossing is recorded with one
/// conditional update, so however many servers check at once, one notice is queued; back above the level, the
/// alert re-arms. Runs with every reconcile (so on ASSET_COUNT, syncs, freed licences and the minute sweep).
public struct CheckAlerts: Sendable {
    let store: any Store
    let clock: any Clock
    let tokenCredentials: TokenCredentials
    let poolReader: LicencePoolReader

    public init(store: any Store, clock: any Clock, tokenCredentials: TokenCredentials, poolReader: LicencePoolReader) {
        self.store = store
        self.clock = clock
        self.tokenCredentials = tokenCredentials
        self.poolReader = poolReader
    }

    /// - Parameter waiting: devices and users waiting per app (from the reconcile that just ran).
    /// - Returns: the notices queued.
    @discardableResult
    public func callAsFunction(_ tenant: TenantID, waiting: [AssetKey: Int] = [:]) async throws -> [Notice] {
        let now = clock.now()
        let ours = try await tokenCredentials.holder(of: tenant)
        return try await store.inTenant(tenant) { tx in
            var queued: [Notice] = []
            for alert in try await tx.alerts() {
                let pool = try await poolReader.pool(tx, alert.asset, ours: ours)
                let counts = pool.usableCounts
                let level = alert.threshold(total: counts.total)
                guard counts.available < level else {
                    if alert.crossedAt != nil { try await tx.clearAlertCrossed(alert.asset) }
                    continue
                }
                guard try await tx.markAlertCrossed(alert.asset, at: now) else { continue }
                var recipients: [String] = []
                var tokenID: TokenID?
                for member in pool.members {
                    guard let token = try await tx.token(member.tokenID) else { continue }
                    tokenID = tokenID ?? token.id
                    recipients += token.noticeRecipients.filter { !recipients.contains($0) }
                }
                guard let tokenID, !recipients.isEmpty else { continue }
                let name = try await tx.app(alert.asset)?.metadata?.name ?? "App \(alert.asset.adamID)"
                let net = try await tx.netGrants(alert.asset, since: now.addingTimeInterval(-30 * 86_400))
                let perDay = Double(net) / 30
                let waitingHere = waiting[alert.asset] ?? 0
                var sentence = "\(name): \(counts.available) left (alert below \(level))"
                if perDay > 0 {
                    let days = Int((Double(counts.available) / perDay).rounded())
                    sentence += ", about \(days) day\(days == 1 ? "" : "s") at the current pace"
                }
                if waitingHere > 0 { sentence += "; \(waitingHere) waiting" }
                let notice = Notice(
                    tokenID: tokenID,
                    kind: .licencesLow,
                    tokenExpiresAt: now,
                    recipients: recipients,
                    subject: "Licences running low: \(name)",
                    body: """
                        \(sentence).

                        Total \(counts.total), available \(counts.available), net \(net) granted over the last 30 days.
                        Buy more licences in Apple Business (or School) Manager, or revoke licences that are not used.
                        """,
                    nextAttemptAt: now
                )
                if try await tx.enqueueNotice(notice) { queued.append(notice) }
            }
            return queued
        }
    }
}
