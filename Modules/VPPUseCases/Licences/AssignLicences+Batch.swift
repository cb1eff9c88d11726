import Foundation
import VPPDomain

extension AssignLicences {
    /// Reserves one request's licences: a small request joins the app's next shared batch (see
    /// ``ReservationBatches``), a large one, or one without batches, reserves alone.
    func reserve(
        _ caller: Caller,
        _ key: AssetKey,
        _ assignees: [Assignee],
        ours: HolderIdentity
    ) async throws -> [(TokenID, [Assignment])] {
        guard let batches, batches.capacity > 1, assignees.count <= batches.largestRequest else {
            return try await reserveAlone(caller, key, assignees, ours: ours)
        }
        let batchKey = ReservationBatches.Key(tenantID: caller.tenantID, asset: key)
        let request = ReservationBatches.Request(
            caller: caller,
            assignees: assignees,
            deadline: WorkDeadline.current,
            idempotent: IdempotentRequest.current
        )
        switch await batches.join(batchKey, request) {
        case .reserved(let groups): return groups
        case .alone: return try await reserveAlone(caller, key, assignees, ours: ours)
        case .lead: break
        }
        let followers = batches.take(batchKey)
        guard !followers.isEmpty else {
            // Nobody waiting: the request alone is the batch, through the path every request took before.
            defer { batches.finish(batchKey) }
            return try await reserveAlone(caller, key, assignees, ours: ours)
        }
        let turns = await reserveTogether(key, [request] + followers.map(\.request), ours: ours)
        batches.recordShared(turns.filter { if case .reserved = $0 { true } else { false } }.count)
        for (follower, turn) in zip(followers, turns.dropFirst()) { follower.turn.settle(turn) }
        batches.finish(batchKey)
        if case .reserved(let groups) = turns[0] { return groups }
        return try await reserveAlone(caller, key, assignees, ours: ours)
    }

    /// Why a batch was given up (rolled back): every request in it then reserves alone.
    struct BatchGivenUp: Error {}

    /// Reserves `requests` (of one tenant and app) in one unit of work: the requests that pass the checks each
    /// would meet alone are audited, planned from the pool as one and reserved together; the others reserve
    /// alone afterwards (and hear why there). Anything that fails the whole unit (a short pool, a competitor
    /// that took licences or licensed one of the devices meanwhile, the database) rolls it back, and every
    /// request reserves alone. Never throws.
    /// - Returns: each request's turn, in order.
    func reserveTogether(
        _ key: AssetKey,
        _ requests: [ReservationBatches.Request],
        ours: HolderIdentity
    ) async -> [ReservationBatches.Turn] {
        let tenantID = requests[0].caller.tenantID
        // Not under the leading request's `Idempotency-Key`: the unit marks each member it reserves for instead.
        let work: @Sendable () async throws -> [ReservationBatches.Turn] = {
            try await IdempotentRequest.$current.withValue(nil) {
                try await store.inTenant(tenantID) { tx in
                    try await reserveTogether(tx, key, requests, ours: ours)
                }
            }
        }
        do {
            // The unit commits only while every member may still commit: by the earliest member's deadline.
            if let deadline = requests.compactMap(\.deadline).min() {
                return try await WorkDeadline.within(deadline) { try await work() }
            }
            return try await work()
        } catch {
            return requests.map { _ in .alone }
        }
    }

    private func reserveTogether(
        _ tx: any TenantTransaction,
        _ key: AssetKey,
        _ requests: [ReservationBatches.Request],
        ours: HolderIdentity
    ) async throws -> [ReservationBatches.Turn] {
        var turns = [ReservationBatches.Turn](repeating: .alone, count: requests.count)
        guard let app = try await tx.app(key) else { return turns }
        // The checks each request meets alone; one that fails (or names an assignee an earlier member named)
        // goes alone, after this commits, and is refused there with its own reason.
        var named = Set<Assignee>()
        var members: [Int] = []
        for (index, request) in requests.enumerated() {
            let assignable = request.assignees.allSatisfy { (try? app.asset.checkAssignable(to: $0)) != nil }
            guard assignable, named.isDisjoint(with: request.assignees) else { continue }
            named.formUnion(request.assignees)
            members.append(index)
        }
        let known = try await Self.known(tx, members.flatMap { requests[$0].assignees })
        members.removeAll { !known.isSuperset(of: requests[$0].assignees) }
        guard !members.isEmpty else { return turns }
        // Already licensed: one read of the named assignees' licences of this app. (A competitor licensing one
        // of them after this read meets the ledger's unique index: the unit rolls back, everyone goes alone.)
        var query = AssignmentQuery(asset: key, states: AssignmentState.Code.holding)
        query.assignees = Set(members.flatMap { requests[$0].assignees })
        let holders = Set(try await tx.assignments(query).map(\.assignee))
        members.removeAll { !holders.isDisjoint(with: requests[$0].assignees) }
        guard !members.isEmpty else { return turns }
        // An audit line per request, as alone, written in one statement.
        try await auditTrail.record(
            tx,
            members.map {
                let detail = "\(requests[$0].assignees.count) assignee(s)"
                return (requests[$0].caller, AuditEntry(.licenceAssign, .app(key), .reserved, detail))
            }
        )
        let wanted = members.flatMap { requests[$0].assignees }
        let plan: [(tokenID: TokenID, count: Int)]
        do {
            plan = try await poolReader.pool(tx, key, ours: ours).allocate(wanted.count)
        } catch {
            throw BatchGivenUp()
        }
        // Token by token in a fixed order, as alone (two units spanning the same tokens never wait in a cycle).
        var remaining = wanted[...]
        var reserved: [Assignee: Assignment] = [:]
        for (tokenID, count) in plan.sorted(by: { $0.tokenID < $1.tokenID }) {
            let group = remaining.prefix(count).map {
                Assignment(tenantID: tx.tenantID, asset: key, assignee: $0, grantingToken: tokenID)
            }
            guard try await tx.reserveLicences(group) else { throw BatchGivenUp() }
            remaining = remaining.dropFirst(count)
            for row in group { reserved[row.assignee] = row }
        }
        for index in members {
            let rows = requests[index].assignees.compactMap { reserved[$0] }
            let byToken = Dictionary(grouping: rows, by: \.grantingToken)
            turns[index] = .reserved(byToken.keys.sorted().map { ($0, byToken[$0] ?? []) })
            if let claim = requests[index].idempotent, claim.tenantID == tx.tenantID {
                try await tx.markIdempotentWrite(claim.key, fingerprint: claim.fingerprint)
            }
        }
        return turns
    }

    /// The assignees among `assignees` the tenant knows and may license (devices not retired, users who can
    /// receive licences): one read of the devices and one of the users named.
    static func known(_ tx: any TenantTransaction, _ assignees: [Assignee]) async throws -> Set<Assignee> {
        let serials = assignees.compactMap { if case .device(let s) = $0 { s } else { nil } }
        let users = assignees.compactMap { if case .user(let u) = $0 { u } else { nil } }
        var known = Set<Assignee>()
        if !serials.isEmpty {
            for device in try await tx.devices(serials) where !device.isRetired {
                known.insert(.device(device.serialNumber))
            }
        }
        if !users.isEmpty {
            for user in try await tx.users(users) where user.canReceiveLicences {
                known.insert(.user(user.clientUserID))
            }
        }
        return known
    }
}
