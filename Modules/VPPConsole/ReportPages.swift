import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VPPDomain
import VPPUseCases

/// The licence report page (and its CSV).
struct ReportsPage: Sendable {
    struct Row: Sendable {
        let name: String
        let adamID: String
        let location: String
        let status: String
        let total: Int
        let assigned: Int
        let available: Int
        let pool: Bool
    }
    let chrome: Chrome
    let headers: [ConsoleTable<Row>.Header]
    let rows: [Row]
    let pager: ConsoleTable<Row>.Pager
    let empty: Bool
}

/// The drift report: what differs between Apple, vpp's records and the inventory, and the fix.
struct DriftPage: Sendable {
    struct Row: Sendable {
        let kind: String
        let adamID: String
        let assignee: String
        let location: String
        let fix: String
    }
    let chrome: Chrome
    let headers: [ConsoleTable<Row>.Header]
    let rows: [Row]
    let pager: ConsoleTable<Row>.Pager
    let empty: Bool
}

/// The audit log with filters.
struct AuditPage: Sendable {
    struct Row: Sendable {
        let at: String
        let actor: String
        let action: String
        let target: String
        let outcome: String
        let detail: String
    }
    let chrome: Chrome
    let actor: String
    let action: String
    let target: String
    let headers: [ConsoleTable<Row>.Header]
    let rows: [Row]
    let pager: ConsoleTable<Row>.Pager
    let empty: Bool
}

/// `/console/reports…`, `/console/audit`
enum ReportPages {
    static func add<Context: RemoteAddressRequestContext>(to group: RouterGroup<Context>, _ console: Console) {
        group.get("reports") { request, _ in
            await console.page(request) { session in
                let rows = try await console.useCases.reports.licences(session.caller).map {
                    ReportsPage.Row(
                        name: $0.name,
                        adamID: $0.adamID,
                        location: $0.location,
                        status: $0.tokenStatus.replacingOccurrences(of: "_", with: " "),
                        total: $0.total,
                        assigned: $0.assigned,
                        available: $0.available,
                        pool: $0.location == "(pool)"
                    )
                }
                let table = ConsoleTable(
                    rows,
                    columns: [
                        .init(key: "name", label: "App") { textOrder($0.name, $1.name) },
                        .init(key: "location", label: "Token") { textOrder($0.location, $1.location) },
                        .init(key: "status", label: "Token status") { $0.status < $1.status },
                        .init(key: "total", label: "Total") { $0.total < $1.total },
                        .init(key: "assigned", label: "Assigned") { $0.assigned < $1.assigned },
                        .init(key: "available", label: "Available") { $0.available < $1.available },
                    ],
                    defaultKey: "name",
                    query: queryOf(request),
                    base: "/console/reports"
                )
                let model = ReportsPage(
                    chrome: await console.chrome(session, title: "Reports", section: "Reports"),
                    headers: table.headers,
                    rows: table.rows,
                    pager: table.pager,
                    empty: rows.isEmpty
                )
                return console.renderer.page("reports", model)
            }
        }
        group.get("reports/licences.csv") { request, _ in
            await console.page(request) { session in
                let csv = Reports.csv(try await console.useCases.reports.licences(session.caller))
                return Response(
                    status: .ok,
                    headers: [
                        .contentType: "text/csv; charset=utf-8",
                        .contentDisposition: "attachment; filename=\"licences.csv\"",
                    ],
                    body: .init(byteBuffer: ByteBuffer(string: csv))
                )
            }
        }
        group.get("reports/drift") { request, _ in
            await console.page(request) { session in
                let rows = try await console.useCases.reports.drift(session.caller).map {
                    DriftPage.Row(
                        kind: $0.kind.rawValue,
                        adamID: $0.adamID,
                        assignee: $0.assignee,
                        location: $0.location,
                        fix: $0.fix
                    )
                }
                let table = ConsoleTable(
                    rows,
                    columns: [
                        .init(key: "kind", label: "Kind") { $0.kind < $1.kind },
                        .init(key: "app", label: "App") { $0.adamID < $1.adamID },
                        .init(key: "assignee", label: "Assignee") { textOrder($0.assignee, $1.assignee) },
                        .init(key: "token", label: "Token") { textOrder($0.location, $1.location) },
                    ],
                    defaultKey: "kind",
                    query: queryOf(request),
                    base: "/console/reports/drift"
                )
                let model = DriftPage(
                    chrome: await console.chrome(session, title: "Drift", section: "Reports"),
                    headers: table.headers,
                    rows: table.rows,
                    pager: table.pager,
                    empty: rows.isEmpty
                )
                return console.renderer.page("drift", model)
            }
        }
        group.get("audit") { request, _ in
            await console.page(request) { session in
                let query = queryOf(request)
                let (actor, action, target) = (query["actor"] ?? "", query["action"] ?? "", query["target"] ?? "")
                let rows = try await console.useCases.catalogue.auditLog(session.caller, limit: 5000)
                    .filter { actor.isEmpty || $0.actor.localizedCaseInsensitiveContains(actor) }
                    .filter { action.isEmpty || $0.action.localizedCaseInsensitiveContains(action) }
                    .filter { target.isEmpty || $0.target.localizedCaseInsensitiveContains(target) }
                    .map {
                        AuditPage.Row(
                            at: ConsoleFormat.time($0.at),
                            actor: $0.actor,
                            action: $0.action,
                            target: $0.target,
                            outcome: $0.outcome,
                            detail: $0.detail
                        )
                    }
                let base =
                    "/console/audit?actor=\(urlEncode(actor))&action=\(urlEncode(action))&target=\(urlEncode(target))"
                var sorted = query
                if sorted["sort"] == nil {
                    sorted["sort"] = "at"
                    sorted["dir"] = sorted["dir"] ?? "desc"
                }
                let table = ConsoleTable(
                    rows,
                    columns: [
                        .init(key: "at", label: "When") { $0.at < $1.at },
                        .init(key: "actor", label: "Who") { textOrder($0.actor, $1.actor) },
                        .init(key: "action", label: "Action") { $0.action < $1.action },
                        .init(key: "target", label: "Target") { textOrder($0.target, $1.target) },
                        .init(key: "outcome", label: "Outcome") { $0.outcome < $1.outcome },
                    ],
                    defaultKey: "at",
                    query: sorted,
                    base: base
                )
                let model = AuditPage(
                    chrome: await console.chrome(session, title: "Audit log", section: "Audit log"),
                    actor: actor,
                    action: action,
                    target: target,
                    headers: table.headers,
                    rows: table.rows,
                    pager: table.pager,
                    empty: rows.isEmpty
                )
                return console.renderer.page("audit", model)
            }
        }
    }
}
