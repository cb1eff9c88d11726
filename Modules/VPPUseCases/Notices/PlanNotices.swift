import Foundation
import VPPDomain

/// Decides which notices are due and queues them. Each (token, kind, expiry date) is queued once,
/// however often this runs and on however many servers (the outbox's unique key decides).
public struct PlanNotices: Sendable {
    let store: any Store
    let clock: any Clock
    let tokenCredentials: TokenCredentials
    /// Consecutive sync failures before admins are told.
    public let syncFailureThreshold = 3

    /// Takes only what this use case touches.
    public init(store: any Store, clock: any Clock, tokenCredentials: TokenCredentials) {
        self.store = store
        self.clock = clock
        self.tokenCredentials = tokenCredentials
    }

    /// The expiry notice due `daysLeft` days before expiry: the most urgent threshold reached.
    static func expiryKind(daysLeft: Int) -> Notice.Kind? {
        switch daysLeft {
        case ...1: .expiresIn1Day
        case ...7: .expiresIn7Days
        case ...15: .expiresIn15Days
        case ...30: .expiresIn30Days
        default: nil
        }
    }

    @discardableResult
    public func callAsFunction(_ tenantID: TenantID) async throws -> [Notice] {
        let now = clock.now()
        let ours = try await tokenCredentials.holder(of: tenantID)
        return try await store.inTenant(tenantID) { tx in
            var queued: [Notice] = []
            for token in try await tx.tokens() where !token.noticeRecipients.isEmpty {
                var kinds: [Notice.Kind] = []
                switch token.status(at: now, ourHolder: ours) {
                case .active, .expiringSoon:
                    if let kind = Self.expiryKind(
                        daysLeft: ContentToken.wholeDaysLeft(until: token.expiresAt, from: now)
                    ) {
                        kinds.append(kind)
                    }
                case .expired: kinds.append(.expired)
                case .revoked: kinds.append(.revoked)
                case .invalid: kinds.append(.revoked)
                case .inUseElsewhere: kinds.append(.inUseElsewhere)
                }
                if let sync = try await tx.syncState(token.id), sync.consecutiveFailures >= syncFailureThreshold {
                    kinds.append(.syncFailing)
                }
                for kind in kinds {
                    let status = token.status(at: now, ourHolder: ours)
                    let (subject, body) = Self.message(kind, token: token, status: status, now: now)
                    let notice = Notice(
                        tokenID: token.id,
                        kind: kind,
                        tokenExpiresAt: token.expiresAt,
                        recipients: token.noticeRecipients,
                        subject: subject,
                        body: body,
                        nextAttemptAt: now
                    )
                    if try await tx.enqueueNotice(notice) { queued.append(notice) }
                }
            }
            return queued
        }
    }

    static func message(_ kind: Notice.Kind, token: ContentToken, status: TokenStatus, now: Date) -> (String, String) {
        let location = token.location.name
        let expiry = ISO8601Timestamp.format(token.expiresAt)
        let subject: String
        switch kind {
        case .expiresIn30Days, .expiresIn15Days, .expiresIn7Days, .expiresIn1Day:
            let days = ContentToken.wholeDaysLeft(until: token.expiresAt, from: now)
            subject = "Content token for \(location) expires in \(days) day\(days == 1 ? "" : "s")"
        case .expired: subject = "Content token for \(location) has expired"
        case .revoked: subject = "Content token for \(location) no longer works"
        case .inUseElsewhere: subject = "Content token for \(location) is in use by another server"
        case .syncFailing: subject = "Content token for \(location) keeps failing to sync"
        case .licencesLow: subject = "Licences running low on \(location)"  // planned by CheckAlerts, not here
        }
        let body = """
            Location: \(location) (\(token.organizationName))
            Token expires: \(expiry)
            Status: \(status.code.replacingOccurrences(of: "_", with: " "))

            What to do: \(status.nextStep)

            Apps already installed keep working; vpp grants no new licences from a token that is not active.
            """
        return (subject, body)
    }
}
