import Foundation
import VPPDomain

/// Revoke licences of one app from devices or users: Apple disassociates asynchronously; when it
/// confirms, the licences return to their token's pool and devices that have the app get RemoveApplication.
public struct RevokeLicences: Sendable {
    let services: VPPServices
    public var firstPollDelay: TimeInterval = 300

    public init(services: VPPServices) { self.services = services }

    public func callAsFunction(_ caller: Caller, asset key: AssetKey, from assignees: [Assignee]) async throws -> [AppleEventTicket] {
        try caller.require(.manageLicences)
        let duplicates = Dictionary(grouping: assignees, by: \.self).filter { $0.value.count > 1 }.keys.map(\.text).sorted()
        guard duplicates.isEmpty else { throw UseCaseError.duplicateAssignees(duplicates) }
        let now = services.clock.now()
        let held: [Assignment] = try await services.store.inTenant(caller.tenantID) { tx in
            guard let app = try await tx.app(key) else { throw StoreError.unknownApp(key) }
            try app.asset.checkRevocable()
            let active = try await tx.assignments(AssignmentQuery(asset: key, states: ["active"]))
            let wanted = Set(assignees)
            let found = active.filter { wanted.contains($0.assignee) }
            let missing = assignees.filter { a in !found.contains { $0.assignee == a } }.map(\.text)
            guard missing.isEmpty else { throw UseCaseError.notLicensed(missing) }
            return found
        }
        var events: [AppleEventTicket] = []
        for (tokenID, group) in Dictionary(grouping: held, by: \.grantingToken) {
            let credentials = try await services.credentials(caller.tenantID, tokenID)
            let tickets = try await services.apple.disassociate(
                credentials, assets: [key], serialNumbers: group.compactMap { if case .device(let s) = $0.assignee { s.value } else { nil } },
                clientUserIDs: group.compactMap { if case .user(let u) = $0.assignee { u.value } else { nil } })
            try await services.store.inTenant(caller.tenantID) { tx in
                for ticket in tickets {
                    let covered = Set(ticket.serialNumbers + ticket.clientUserIDs)
                    try await tx.setState(.revoking(eventID: ticket.eventID), of: group.filter { covered.contains($0.assignee.text) }.map(\.id))
                }
                try await tx.insertPendingEvents(tickets.map {
                    PendingAppleEvent(eventID: $0.eventID, tokenID: tokenID, kind: "disassociate", createdAt: now,
                                      nextPollAt: now.addingTimeInterval(firstPollDelay))
                })
                try await services.audit(tx, caller, "licence.revoke", "\(key)", "sent", "\(group.count) assignee(s)")
            }
            events += tickets
        }
        return events
    }
}
