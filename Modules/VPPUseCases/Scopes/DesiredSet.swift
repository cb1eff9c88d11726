import Foundation
import VPPDomain

/// Resolves scopes into the devices and users they name: groups' written members, dynamic groups over the
/// enrolled devices, explicit serials and users. Retired devices, unknown or retired users are left out
/// (and counted); devices the inventory does not know yet are named so applying can register them.
struct DesiredSet {
    var members: [Assignee: DesiredMember] = [:]
    /// Serial numbers a scope names that the inventory does not know (registered when a plan is applied).
    var unknownDevices: [SerialNumber] = []
    /// Devices and users left out: retired, or users not registered.
    var excluded = 0

    /// - Parameter only: resolve just these devices and users (a membership change reads what it names, not the
    ///   groups); nil resolves everyone.
    static func resolve(
        _ tx: any TenantTransaction,
        scopes: [AppScope],
        only: [Assignee]? = nil
    ) async throws
        -> DesiredSet
    {
        let groupNames = Set(scopes.flatMap(\.groups))
        let groups = try await tx.groups().filter { groupNames.contains($0.group.name) }
        var membersByGroup: [GroupName: [Assignee]] = [:]
        if let only {
            let serials = only.compactMap { if case .device(let s) = $0 { s } else { nil } }
            let dynamicGroups = groups.filter { $0.group.dynamic != nil }
            let devices = dynamicGroups.isEmpty ? [] : try await tx.devices(serials)
            for record in dynamicGroups {
                membersByGroup[record.group.name] = devices.filter(record.group.dynamic!.includes).map {
                    .device($0.serialNumber)
                }
            }
            let written = groups.filter { $0.group.dynamic == nil }.map(\.group.name)
            for (group, member) in try await tx.groupMembers(written, among: only) {
                membersByGroup[group, default: []].append(member)
            }
        } else {
            var enrolled: [Device]?
            for record in groups {
                if let dynamic = record.group.dynamic {
                    if enrolled == nil { enrolled = try await Self.enrolledDevices(tx) }
                    membersByGroup[record.group.name] = enrolled!.filter(dynamic.includes).map {
                        .device($0.serialNumber)
                    }
                } else {
                    membersByGroup[record.group.name] = try await tx.groupMembers([record.group.name])
                }
            }
        }
        let wanted = only.map(Set.init)
        let named = scopes.map { scope in
            (
                scope,
                scope.groups.flatMap { membersByGroup[$0] ?? [] }
                    + (scope.serialNumbers.map(Assignee.device) + scope.clientUserIDs.map(Assignee.user))
                    .filter { wanted?.contains($0) ?? true }
            )
        }
        var set = DesiredSet()
        set.members = DesiredMember.union(named)
        // Only devices and users that may hold a licence.
        let serials = set.members.keys.compactMap { if case .device(let s) = $0 { s } else { nil } }
        let devices = Dictionary(uniqueKeysWithValues: try await tx.devices(serials).map { ($0.serialNumber, $0) })
        for serial in serials {
            if let device = devices[serial] {
                if device.isRetired {
                    set.members[.device(serial)] = nil
                    set.excluded += 1
                }
            } else {
                set.unknownDevices.append(serial)
            }
        }
        let userIDs = set.members.keys.compactMap { if case .user(let u) = $0 { u } else { nil } }
        let users = Dictionary(uniqueKeysWithValues: try await tx.users(userIDs).map { ($0.clientUserID, $0) })
        for user in userIDs where users[user]?.canReceiveLicences != true {
            set.members[.user(user)] = nil
            set.excluded += 1
        }
        set.unknownDevices.sort()
        return set
    }

    /// Every enrolled device, page by page (a dynamic group's members are the enrolled fleet).
    static func enrolledDevices(_ tx: any TenantTransaction) async throws -> [Device] {
        var result: [Device] = []
        var after: SerialNumber?
        while true {
            let page = try await tx.devicePage(after: after, limit: 1_000, filter: DeviceFilter(enrolled: true))
            result += page
            guard page.count == 1_000, let last = page.last else { return result }
            after = last.serialNumber
        }
    }
}
