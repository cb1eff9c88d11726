import Foundation
import VPPDomain

/// A token as admins see it: facts, computed status, what to do next, sync health.
public struct TokenOverview: Sendable {
    public let token: ContentToken
    public let status: TokenStatus
    public let sync: TokenSyncState?
    public let appCount: Int

    public var nextStep: String { status.nextStep }
}
