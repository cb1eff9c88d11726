import Foundation
import VPPDomain

/// Recurring work that is due now across every tenant, found by indexed queries: a tenant with nothing
/// due costs nothing, however many tenants there are.
public struct DueWork: Hashable, Sendable {
    /// Tokens whose scheduled sync is due (not expired, revoked or refused; last success older than the interval).
    public var syncs: [TokenRef]
    /// Tenants with Apple events whose next poll is due.
    public var eventPolls: [TenantID]
    /// Tenants with a token that may need a notice (expiring within 31 days, expired, revoked, refused,
    /// held elsewhere, or failing to sync).
    public var noticePlans: [TenantID]
    /// Tenants with notices waiting to be sent.
    public var noticeDeliveries: [TenantID]
    /// Tenants with app scopes (or members still leaving one): reconciled periodically as a safety net.
    public var scopeSweeps: [TenantID] = []

    public init(
        syncs: [TokenRef] = [],
        eventPolls: [TenantID] = [],
        noticePlans: [TenantID] = [],
        noticeDeliveries: [TenantID] = []
    ) {
        self.syncs = syncs
        self.eventPolls = eventPolls
        self.noticePlans = noticePlans
        self.noticeDeliveries = noticeDeliveries
    }

    /// One token of one tenant.
    public struct TokenRef: Hashable, Sendable {
        public let tenantID: TenantID
        public let tokenID: TokenID

        public init(tenantID: TenantID, tokenID: TokenID) {
            self.tenantID = tenantID
            self.tokenID = tokenID
        }
    }
}
