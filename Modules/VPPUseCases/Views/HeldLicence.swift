import Foundation
import VPPDomain

/// A licence a device or user holds, named for people: the app's name (its adam id when the store has
/// no name) and the licence's state.
public struct HeldLicence: Hashable, Sendable {
    public let app: String
    public let state: AssignmentState.Code

    public init(app: String, state: AssignmentState.Code) {
        self.app = app
        self.state = state
    }
}

extension Catalogue {
    /// The licences each of `assignees` holds (states that count against the pool), ordered by app name:
    /// for the rows of one listing page (one read of the ledger for the page, one of the apps it names).
    public func heldLicences(_ caller: Caller, _ assignees: [Assignee]) async throws -> [Assignee: [HeldLicence]] {
        try caller.require(.read)
        guard !assignees.isEmpty else { return [:] }
        var query = AssignmentQuery(states: AssignmentState.Code.holding)
        query.assignees = Set(assignees)
        let held = query
        return try await store.inTenant(caller.tenantID) { tx in
            let licences = try await tx.assignments(held)
            let apps = try await tx.apps(adamIDs: Array(Set(licences.map(\.asset.adamID))))
            let names = Dictionary(apps.map { ($0.asset.key, $0.metadata?.name) }, uniquingKeysWith: { a, _ in a })
            var result: [Assignee: [HeldLicence]] = [:]
            for licence in licences {
                let name = names[licence.asset].flatMap { $0 } ?? licence.asset.adamID
                result[licence.assignee, default: []].append(HeldLicence(app: name, state: licence.state.stateCode))
            }
            return result.mapValues { $0.sorted { ($0.app, $0.state.rawValue) < ($1.app, $1.state.rawValue) } }
        }
    }

    /// Devices that could receive `asset` (not retired, no licence of it held) among the first `scan` by
    /// serial, at most `limit`: the app page's picker, from the device listing's own keyset read.
    public func devicesWithout(_ caller: Caller, _ asset: AssetKey, limit: Int, scan: Int) async throws -> [DeviceView]
    {
        try caller.require(.read)
        return try await store.inTenant(caller.tenantID) { tx in
            let devices = try await tx.devicePage(after: nil, limit: scan, filter: DeviceFilter())
            var query = AssignmentQuery(asset: asset, states: AssignmentState.Code.holding)
            query.assignees = Set(devices.map { .device($0.serialNumber) })
            let holding = Set(try await tx.assignments(query).map(\.assignee))
            return devices.filter { !holding.contains(.device($0.serialNumber)) }.prefix(limit).map(DeviceView.init)
        }
    }
}
