import Foundation

/// Apple's asynchronous writes: validated at once (97xx), carried out later as an event
/// (PENDING → COMPLETE/FAILED), announced by notification.
extension AppleSimulator {
    func manageAssets(_ uid: String, _ body: Data, type: String) -> Answer {
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            return .error(.appleError(9602, "Invalid argument: body is not a JSON object", status: 400))
        }
        guard let location = locations[uid] else { return .error(.appleError(9603, "Internal error", status: 500)) }
        guard let rawAssets = object["assets"] as? [[String: Any]], !rawAssets.isEmpty else {
            return .error(.appleError(9718, Self.errorTable[9718]!, status: 400))
        }
        let serials = object["serialNumbers"] as? [String] ?? []
        let users = object["clientUserIds"] as? [String] ?? []
        if serials.isEmpty && users.isEmpty { return .error(.appleError(9719, Self.errorTable[9719]!, status: 400)) }
        let limit = { (name: String) in self.settings.limits[name] ?? Int.max }
        if rawAssets.count > limit("maxAssets") {
            return .error(.appleError(9700, Self.errorTable[9700]!, status: 400))
        }
        if users.count > limit("maxClientUserIds") {
            return .error(.appleError(9701, Self.errorTable[9701]!, status: 400))
        }
        if serials.count > limit("maxSerialNumbers") {
            return .error(.appleError(9702, Self.errorTable[9702]!, status: 400))
        }
        var keys: [SimAssetKey] = []
        for raw in rawAssets {
            guard let adamId = raw["adamId"] as? String else {
                return .error(.appleError(9602, "Invalid argument: asset without adamId", status: 400))
            }
            // Apple's own example omits pricingParam; default to the standard quality.
            let key = SimAssetKey(adamId: adamId, pricingParam: raw["pricingParam"] as? String ?? "STDQ")
            guard let asset = location.assets[key] else {
                return .error(
                    .appleError(
                        9602,
                        "Invalid argument: no asset \(adamId)/\(key.pricingParam) on this location",
                        status: 400
                    )
                )
            }
            if type == "ASSOCIATE", !serials.isEmpty, !asset.deviceAssignable {
                return .error(.appleError(9707, "Asset \(adamId) is not device assignable", status: 400))
            }
            if type == "DISASSOCIATE", !asset.revocable {
                return .error(.appleError(9706, "Asset \(adamId) is not revocable", status: 400))
            }
            keys.append(key)
        }
        if Set(keys).count != keys.count { return .error(.appleError(9703, Self.errorTable[9703]!, status: 400)) }
        if Set(users).count != users.count { return .error(.appleError(9704, Self.errorTable[9704]!, status: 400)) }
        if Set(serials).count != serials.count { return .error(.appleError(9705, Self.errorTable[9705]!, status: 400)) }
        let eventId = startEvent(uid, type: type, requested: keys.count * (serials.count + users.count))
        let assetKeys = keys
        scheduleEvent(uid, eventId) { simulator in
            simulator.carryOutManageAssets(uid, eventId, type: type, keys: assetKeys, serials: serials, users: users)
        }
        return .ok(["eventId": eventId])
    }

    func revokeAssets(_ uid: String, _ body: Data) -> Answer {
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            return .error(.appleError(9602, "Invalid argument: body is not a JSON object", status: 400))
        }
        let serials = object["serialNumbers"] as? [String] ?? []
        let users = object["clientUserIds"] as? [String] ?? []
        if serials.isEmpty && users.isEmpty { return .error(.appleError(9719, Self.errorTable[9719]!, status: 400)) }
        if users.count > (settings.limits["maxRevokeClientUserIds"] ?? .max) {
            return .error(.appleError(9701, Self.errorTable[9701]!, status: 400))
        }
        if serials.count > (settings.limits["maxRevokeSerialNumbers"] ?? .max) {
            return .error(.appleError(9702, Self.errorTable[9702]!, status: 400))
        }
        if Set(users).count != users.count { return .error(.appleError(9704, Self.errorTable[9704]!, status: 400)) }
        if Set(serials).count != serials.count { return .error(.appleError(9705, Self.errorTable[9705]!, status: 400)) }
        let eventId = startEvent(uid, type: "REVOKE", requested: serials.count + users.count)
        scheduleEvent(uid, eventId) { simulator in
            simulator.carryOutRevoke(uid, eventId, serials: Set(serials), users: Set(users))
        }
        return .ok(["eventId": eventId])
    }

    func manageUsers(_ uid: String, _ body: Data, type: String) -> Answer {
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            return .error(.appleError(9602, "Invalid argument: body is not a JSON object", status: 400))
        }
        guard let raw = object["users"] as? [[String: Any]], !raw.isEmpty else {
            return .error(.appleError(9720, Self.errorTable[9720]!, status: 400))
        }
        if raw.count > (settings.limits["maxUsers"] ?? .max) {
            return .error(.appleError(9714, Self.errorTable[9714]!, status: 400))
        }
        var requested: [SimUser] = []
        for item in raw {
            guard let id = item["clientUserId"] as? String, !id.isEmpty else {
                return .error(.appleError(9720, Self.errorTable[9720]!, status: 400))
            }
            let email = item["email"] as? String
            if let email, !email.contains("@") { return .error(.appleError(9717, Self.errorTable[9717]!, status: 400)) }
            requested.append(
                SimUser(
                    clientUserId: id,
                    email: email,
                    managedAppleId: item["managedAppleId"] as? String,
                    status: "Registered",
                    inviteCode: nil,
                    idHash: nil,
                    modifiedAtVersion: 0
                )
            )
        }
        if Set(requested.map(\.clientUserId)).count != requested.count {
            return .error(.appleError(9715, Self.errorTable[9715]!, status: 400))
        }
        let eventId = startEvent(uid, type: type, requested: requested.count)
        let users = requested
        scheduleEvent(uid, eventId) { simulator in
            simulator.carryOutManageUsers(uid, eventId, type: type, users: users)
        }
        return .ok(["eventId": eventId])
    }

    // MARK: Event machinery

    private func startEvent(_ uid: String, type: String, requested: Int) -> String {
        let id = UUID().uuidString.lowercased()
        locations[uid]?.events[id] = SimEvent(
            id: id,
            type: type,
            status: "PENDING",
            numRequested: requested,
            numCompleted: 0,
            failures: []
        )
        return id
    }

    private func scheduleEvent(
        _ uid: String,
        _ eventId: String,
        _ work: @escaping @Sendable (isolated AppleSimulator) -> [[String: Any]]
    ) {
        let delay = settings.eventDelayMilliseconds
        Task {
            if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
            let notifications = self.runEvent(work)
            await self.sendNotifications(uid, notifications)
        }
    }

    private func runEvent(_ work: @Sendable (isolated AppleSimulator) -> [[String: Any]]) -> SendableNotifications {
        SendableNotifications(items: work(self))
    }

    private func finish(_ uid: String, _ eventId: String, completed: Int, failures: [SimFailure]) {
        locations[uid]?.events[eventId]?.numCompleted = completed
        locations[uid]?.events[eventId]?.failures = failures
        locations[uid]?.events[eventId]?.status = failures.isEmpty ? "COMPLETE" : "FAILED"
    }

    func carryOutManageAssets(
        _ uid: String,
        _ eventId: String,
        type: String,
        keys: [SimAssetKey],
        serials: [String],
        users: [String]
    ) -> [[String: Any]] {
        // Taken out of the dictionary while it changes: a copy left behind would make every append copy the
        // whole assignment list (copy-on-write), and a write to a location of 1,000,000 assignments quadratic.
        guard var location = locations.removeValue(forKey: uid) else { return [] }
        location.bumpVersion()
        var done: [[String: Any]] = []
        var noLicence = SimFailure(
            errorNumber: 9709,
            errorMessage: "There aren't enough assets available to complete this association."
        )
        var unknownUser = SimFailure(errorNumber: 9609, errorMessage: "Registered user not found")
        let activeUsers = Set(location.users.filter { $0.status != "Retired" }.map(\.clientUserId))
        for key in keys {
            let targets: [(serial: String?, user: String?)] = serials.map { ($0, nil) } + users.map { (nil, $0) }
            for target in targets {
                var item: [String: Any] = ["adamId": key.adamId, "pricingParam": key.pricingParam]
                if let serial = target.serial { item["serialNumber"] = serial }
                if let user = target.user { item["clientUserId"] = user }
                let indexKey = SimLocation.assignmentKey(key, serial: target.serial, user: target.user)
                if type == "ASSOCIATE" {
                    if location.assignmentIndex[indexKey] != nil {
                        done.append(item)
                        continue
                    }
                    if let user = target.user, !activeUsers.contains(user) {
                        unknownUser.clientUserIds.append(user)
                        if !unknownUser.assets.contains(key) { unknownUser.assets.append(key) }
                        continue
                    }
                    let total = location.assets[key]?.totalCount ?? 0
                    if location.assignedCount(key) >= total {
                        if let serial = target.serial { noLicence.serialNumbers.append(serial) }
                        if let user = target.user { noLicence.clientUserIds.append(user) }
                        if !noLicence.assets.contains(key) { noLicence.assets.append(key) }
                        continue
                    }
                    Self.addAssignment(&location, key, serial: target.serial, user: target.user)
                } else {
                    _ = Self.removeAssignments(&location) {
                        $0.asset == key && $0.serialNumber == target.serial && $0.clientUserId == target.user
                    }
                }
                done.append(item)
            }
        }
        locations[uid] = location
        let failures = [noLicence, unknownUser].filter { !$0.serialNumbers.isEmpty || !$0.clientUserIds.isEmpty }
        finish(uid, eventId, completed: done.count, failures: failures)
        return Self.assetNotifications(eventId: eventId, type: type, done: done, failures: failures)
    }

    func carryOutRevoke(_ uid: String, _ eventId: String, serials: Set<String>, users: Set<String>) -> [[String: Any]] {
        // Taken out of the dictionary while it changes: a copy left behind would make every append copy the
        // whole assignment list (copy-on-write), and a write to a location of 1,000,000 assignments quadratic.
        guard var location = locations.removeValue(forKey: uid) else { return [] }
        location.bumpVersion()
        let revocable = Set(location.assets.values.filter(\.revocable).map(\.key))
        let removed = Self.removeAssignments(&location) { assignment in
            revocable.contains(assignment.asset)
                && (assignment.serialNumber.map(serials.contains) ?? false
                    || assignment.clientUserId.map(users.contains) ?? false)
        }
        locations[uid] = location
        finish(uid, eventId, completed: serials.count + users.count, failures: [])
        let done: [[String: Any]] = removed.map { assignment in
            var item: [String: Any] = [
                "adamId": assignment.asset.adamId, "pricingParam": assignment.asset.pricingParam,
            ]
            if let serial = assignment.serialNumber { item["serialNumber"] = serial }
            if let user = assignment.clientUserId { item["clientUserId"] = user }
            return item
        }
        return Self.assetNotifications(eventId: eventId, type: "REVOKE", done: done, failures: [])
    }

    func carryOutManageUsers(_ uid: String, _ eventId: String, type: String, users: [SimUser]) -> [[String: Any]] {
        // Taken out of the dictionary while it changes: a copy left behind would make every append copy the
        // whole assignment list (copy-on-write), and a write to a location of 1,000,000 assignments quadratic.
        guard var location = locations.removeValue(forKey: uid) else { return [] }
        location.bumpVersion()
        var failures: [SimFailure] = []
        var changed: [[String: Any]] = []
        for requested in users {
            let activeIndex = location.users.firstIndex {
                $0.clientUserId == requested.clientUserId && $0.status != "Retired"
            }
            switch type {
            case "CREATE":
                if activeIndex != nil {
                    failures.append(
                        SimFailure(
                            errorNumber: 9716,
                            errorMessage: "clientUserId already exists",
                            clientUserIds: [requested.clientUserId]
                        )
                    )
                    continue
                }
                var user = requested
                user.inviteCode = String(UUID().uuidString.prefix(8)).lowercased()
                user.modifiedAtVersion = location.version
                location.users.append(user)
            case "UPDATE", "RETIRE":
                guard let index = activeIndex else {
                    failures.append(
                        SimFailure(
                            errorNumber: 9609,
                            errorMessage: "Registered user not found",
                            clientUserIds: [requested.clientUserId]
                        )
                    )
                    continue
                }
                if type == "UPDATE" {
                    if let email = requested.email { location.users[index].email = email }
                } else {
                    location.users[index].status = "Retired"
                    _ = Self.removeAssignments(&location) { $0.clientUserId == requested.clientUserId }
                }
                location.users[index].modifiedAtVersion = location.version
            default: continue
            }
            changed.append([
                "clientUserId": requested.clientUserId, "status": type == "RETIRE" ? "Retired" : "Registered",
            ])
        }
        locations[uid] = location
        finish(uid, eventId, completed: changed.count, failures: failures)
        var notification: [String: Any] = [
            "eventId": eventId, "type": type, "users": changed,
            "result": failures.isEmpty ? "SUCCESS" : "FAILURE",
        ]
        if let first = failures.first {
            notification["error"] = ["errorNumber": first.errorNumber, "errorMessage": first.errorMessage]
        }
        return [["type": "USER_MANAGEMENT", "body": notification]]
    }

    /// ASSET_MANAGEMENT notifications: at most 100 assignments each; failures reported with `result: FAILURE`.
    static func assetNotifications(
        eventId: String,
        type: String,
        done: [[String: Any]],
        failures: [SimFailure]
    ) -> [[String: Any]] {
        var result: [[String: Any]] = []
        for start in stride(from: 0, to: max(done.count, 1), by: 100) where !done.isEmpty {
            result.append([
                "type": "ASSET_MANAGEMENT",
                "body": [
                    "assignments": Array(done[start..<min(start + 100, done.count)]), "eventId": eventId,
                    "result": "SUCCESS", "type": type,
                ] as [String: Any],
            ])
        }
        for failure in failures {
            var assignments: [[String: Any]] = []
            for key in failure.assets {
                for serial in failure.serialNumbers {
                    assignments.append(["adamId": key.adamId, "pricingParam": key.pricingParam, "serialNumber": serial])
                }
                for user in failure.clientUserIds {
                    assignments.append(["adamId": key.adamId, "pricingParam": key.pricingParam, "clientUserId": user])
                }
            }
            result.append([
                "type": "ASSET_MANAGEMENT",
                "body": [
                    "assignments": Array(assignments.prefix(100)), "eventId": eventId, "result": "FAILURE",
                    "type": type,
                    "error": ["errorNumber": failure.errorNumber, "errorMessage": failure.errorMessage],
                ] as [String: Any],
            ])
        }
        return result
    }

    func sendNotifications(_ uid: String, _ notifications: SendableNotifications) async {
        guard let location = locations[uid], let url = location.notificationUrl,
            let secret = location.notificationAuthToken
        else { return }
        for item in notifications.items {
            guard let type = item["type"] as? String,
                location.notificationTypes.isEmpty || location.notificationTypes.contains(type)
            else { continue }
            let envelope: [String: Any] = [
                "notification": item["body"] ?? [:], "notificationId": UUID().uuidString.lowercased(),
                "notificationType": type, "uId": uid,
            ]
            _ = await notifier.deliver(url: url, bearer: secret, envelope: envelope, attempts: 3)
        }
    }
}

/// JSON objects handed from the actor to the delivery task; built once and only read afterwards.
struct SendableNotifications: @unchecked Sendable {
    let items: [[String: Any]]
}
