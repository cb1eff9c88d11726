import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VPPDomain
import VPPUseCases

/// `/v1/reports/…`: licences per app and token (JSON or CSV), and drift between Apple, vpp and the inventory.
enum ReportRoutes {
    static let operations: [APIOperation] = [
        APIOperation(
            method: .get,
            path: "/v1/reports/licenses",
            operationID: "licenceReport",
            summary: "Licences per app and per token (format=csv for CSV)",
            access: .apiKey(.read),
            parameters: [.query("format", .oneOf(ReportFormat.self))],
            answers: [
                APIOperation.Answer(
                    status: 200,
                    description: "Report",
                    bodies: [
                        ("application/json", .array(.ref(ReportRowView.self))), ("text/csv", .string),
                    ]
                )
            ],
            errors: [400]
        ) { call in
            let format = try call.query.value("format", as: ReportFormat.self) ?? .json
            let rows = try await call.useCases.reports.licences(try call.caller())
            switch format {
            case .csv:
                return Response(
                    status: .ok,
                    headers: [.contentType: "text/csv; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: Reports.csv(rows)))
                )
            case .json:
                return json(rows.map(ReportRowView.init))
            }
        },
        APIOperation(
            method: .get,
            path: "/v1/reports/drift",
            operationID: "driftReport",
            summary: "Drift between Apple, vpp and the device inventory, with fixes",
            access: .apiKey(.read),
            answers: [.json(200, "Findings", .array(.ref(DriftView.self)))]
        ) { call in
            json(try await call.useCases.reports.drift(try call.caller()).map(DriftView.init))
        },
    ]
}
