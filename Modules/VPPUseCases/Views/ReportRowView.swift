import Foundation
import VPPDomain

/// A licence report row as the CLI's `report licenses --format json` and the REST API show it (`adamId`,
/// like every other representation).
public struct ReportRowView: Encodable, Sendable, Hashable {
    public let adamId, pricingParam, name, location, tokenStatus: String
    public let total, assigned, available, retired: Int

    public init(_ row: LicenceReportRow) {
        (adamId, pricingParam, name, location, tokenStatus) = (
            row.adamID, row.pricingParam, row.name, row.location, row.tokenStatus
        )
        (total, assigned, available, retired) = (row.total, row.assigned, row.available, row.retired)
    }
}
