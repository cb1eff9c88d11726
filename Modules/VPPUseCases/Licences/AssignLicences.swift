import Foundation
import VPPDomain

/// The outcome of an assignment request.
public struct AssignmentOutcome: Sendable {
    /// Licences reserved and sent to Apple, by granting token.
    public var sentByToken: [TokenID: Int]
    /// Apple events to wait for.
    public var events: [AppleEventTicket]
}

/// Assign licences of one app to devices (serial numbers) or users: checks everything first, reserves in
/// the database (never oversells, across servers), then asks Apple in batches at its limits. Devices get
/// InstallApplication only when Apple confirms (see ``ProcessAppleEvent``).
public struct AssignLicences: Sendable {
    let services: VPPServices
    /// First `status` poll after this long without a notification (Apple: 5 minutes).
    public var firstPollDelay: TimeInterval = 300

    public init(services: VPPServices) { self.services = services }

    public func callAsFunction(_ caller: Caller, asset key: AssetKey, to assignees: [Assignee]) async throws -> AssignmentOutcome {
        try caller.require(.manageLicences)
        guard !assignees.isEmpty else { throw UseCaseError.noAssignees }
        try assignees.requireDistinct()
        let ours = try await services.holder(of: caller.tenantID)
        let now = services.clock.now()

        // 1. Check and reserve in one unit of work: all or nothing.
        let reserved: [(TokenID, [Assignment])] = try await services.store.inTenant(caller.tenantID) { tx in
            guard let app = try await tx.app(key) else { throw StoreError.unknownApp(key) }
            for assignee in assignees { try app.asset.checkAssignable(to: assignee) }
            try await Self.checkKnown(tx, assignees)
            let holding = try await tx.assignments(AssignmentQuery(asset: key, states: ["reserved", "pending", "active", "revoking"]))
            let held = Set(holding.map(\.assignee))
            let already = assignees.filter(held.contains).map(\.text)
            guard already.isEmpty else { throw UseCaseError.alreadyLicensed(already) }
            let plan = try await services.pool(tx, key, ours: ours).allocate(assignees.count)
            var remaining = assignees[...]
            var result: [(TokenID, [Assignment])] = []
            for (tokenID, count) in plan {
                guard try await tx.reserve(key, from: tokenID, count: count) else {
                    // Another server took them between our read and our update: refuse, roll back everything.
                    throw LicenceError.noLicencesLeft(key, requested: assignees.count, available: 0)
                }
                let group = remaining.prefix(count).map { Assignment(tenantID: caller.tenantID, asset: key, assignee: $0, grantingToken: tokenID) }
                remaining = remaining.dropFirst(count)
                try await tx.insertAssignments(group)
                result.append((tokenID, group))
            }
            try await services.audit(tx, caller, "licence.assign", "\(key)", "reserved", "\(assignees.count) assignee(s)")
            return result
        }

        // 2. Ask Apple, token by token; a refusal releases exactly that token's reservations.
        var outcome = AssignmentOutcome(sentByToken: [:], events: [])
        for (tokenID, group) in reserved {
            do {
                let credentials = try await services.credentials(caller.tenantID, tokenID)
                // Check the holder before writing: Apple answers a write even when another MDM has taken the token.
                _ = try await services.apple.clientConfig(credentials)
                let tickets = try await services.apple.associate(
                    credentials, assets: [key], serialNumbers: group.map(\.assignee).serialNumberTexts,
                    clientUserIDs: group.map(\.assignee).clientUserIDTexts)
                try await services.store.inTenant(caller.tenantID) { tx in
                    for ticket in tickets {
                        let covered = Set(ticket.serialNumbers + ticket.clientUserIDs)
                        let ids = group.filter { covered.contains($0.assignee.text) }.map(\.id)
                        try await tx.setState(.pending(eventID: ticket.eventID), of: ids)
                    }
                    try await tx.insertPendingEvents(tickets.map {
                        PendingAppleEvent(eventID: $0.eventID, tokenID: tokenID, kind: "associate", createdAt: now,
                                          nextPollAt: now.addingTimeInterval(firstPollDelay))
                    })
                }
                outcome.sentByToken[tokenID] = group.count
                outcome.events += tickets
            } catch {
                if let appleError = error as? AppleAPIError {
                    try await TokenHealth.record(appleError, tokenID: tokenID, caller: caller, services: services)
                }
                try await services.store.inTenant(caller.tenantID) { tx in
                    try await tx.setState(.failed(reason: "\(error)"), of: group.map(\.id))
                    try await tx.release(key, to: tokenID, count: group.count)
                    try await services.audit(tx, caller, "licence.assign", "\(key)", "failed", "\(error)")
                }
                throw error
            }
        }
        try await services.store.jobs.enqueue(JobRequest(tenantID: caller.tenantID, kind: "poll-events", key: "all",
                                                         runAt: now.addingTimeInterval(firstPollDelay)))
        return outcome
    }

    /// Refuses devices and users the tenant does not know (or whose user is retired), naming them.
    static func checkKnown(_ tx: any TenantTransaction, _ assignees: [Assignee]) async throws {
        let serials = assignees.compactMap { if case .device(let s) = $0 { s } else { nil } }
        if !serials.isEmpty {
            let known = Set(try await tx.devices().filter { !$0.isRetired }.map(\.serialNumber))
            let unknown = serials.filter { !known.contains($0) }.map(\.value)
            guard unknown.isEmpty else { throw UseCaseError.unknownDevices(unknown) }
        }
        let users = assignees.compactMap { if case .user(let u) = $0 { u } else { nil } }
        if !users.isEmpty {
            let known = Set(try await tx.users().filter(\.canReceiveLicences).map(\.clientUserID))
            let unknown = users.filter { !known.contains($0) }.map(\.value)
            guard unknown.isEmpty else { throw UseCaseError.unknownUsers(unknown) }
        }
    }
}
