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
        guard !assignees.isEmpty else { throw UseCaseError.noAssignees }
        try assignees.requireDistinct()
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
        return try await disassociate(caller, key, held, now: now)
    }

    /// Reclaims, in bulk, every licence held by a retired device or user: they go back to their pools.
    /// - Returns: how many licences were sent back to Apple.
    public func reclaimRetired(_ caller: Caller) async throws -> Int {
        try caller.require(.manageLicences)
        let now = services.clock.now()
        let (held, revocable): ([Assignment], Set<AssetKey>) = try await services.store.inTenant(caller.tenantID) { tx in
            let retired = Set(try await tx.devices().filter(\.isRetired).map { Assignee.device($0.serialNumber) })
                .union(try await tx.users().filter { !$0.canReceiveLicences }.map { Assignee.user($0.clientUserID) })
            let active = try await tx.assignments(AssignmentQuery(states: ["active"])).filter { retired.contains($0.assignee) }
            return (active, Set(try await tx.apps().filter(\.asset.isRevocable).map(\.asset.key)))
        }
        let reclaimable = held.filter { revocable.contains($0.asset) }
        for (asset, group) in Dictionary(grouping: reclaimable, by: \.asset) {
            _ = try await disassociate(caller, asset, group, now: now)
        }
        return reclaimable.count
    }

    private func disassociate(_ caller: Caller, _ key: AssetKey, _ held: [Assignment], now: Date) async throws -> [AppleEventTicket] {
        var events: [AppleEventTicket] = []
        for (tokenID, group) in Dictionary(grouping: held, by: \.grantingToken) {
            let credentials = try await services.credentials(caller.tenantID, tokenID)
            let tickets = try await services.apple.disassociate(
                credentials, assets: [key], serialNumbers: group.map(\.assignee).serialNumberTexts,
                clientUserIDs: group.map(\.assignee).clientUserIDTexts)
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
