import Foundation
import VPPDomain

/// A licence (one assignment in the ledger) as the CLI's `--json` and the REST API show it.
public struct LicenceView: Encodable, Sendable, Hashable {
    public let id: String
    public let adamId: String
    public let serialNumber: String?
    public let clientUserId: String?
    public let tokenId: String
    public let state: String
    public let detail: String?
    /// When the licence last changed (RFC 3339).
    public let changedAt: String?

    public init(_ assignment: Assignment) {
        id = assignment.id.description
        adamId = assignment.asset.adamID
        switch assignment.assignee {
        case .device(let s):
            serialNumber = s.value
            clientUserId = nil
        case .user(let u):
            serialNumber = nil
            clientUserId = u.value
        }
        tokenId = assignment.grantingToken.description
        changedAt = assignment.changedAt.map(ISO8601Timestamp.format)
        state = assignment.state.code
        switch assignment.state {
        case .failed(let reason): detail = reason
        case .pending(let event), .revoking(let event): detail = "Apple event \(event)"
        default: detail = nil
        }
    }
}
