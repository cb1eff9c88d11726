import Foundation
import VPPDomain

/// A drift finding as the CLI's `report drift --format json` and the REST API show it.
public struct DriftView: Encodable, Sendable, Hashable {
    public let kind, adamId, assignee, location, fix: String

    public init(_ finding: DriftFinding) {
        (kind, adamId, assignee, location, fix) = (
            finding.kind.rawValue, finding.adamID, finding.assignee, finding.location, finding.fix
        )
    }
}
