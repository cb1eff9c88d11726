import Foundation

/// Apple's v2 endpoints.
extension AppleSimulator {
    static let apiPrefix = "/mdm/v2/"
    static let lookupPath = "/WebObjects/MZStorePlatform.woa/wa/lookup"

    /// Answers one request to Apple's API (including injected faults and the rate limit).
    public func handleAppleAPI(_ request: SimRequest) async -> SimResponse {
        let endpoint = String(request.path.dropFirst(Self.apiPrefix.count))
        requestCounts[endpoint, default: 0] += 1
        let target =
            request.path + "?"
            + request.query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        if let faulty = takeFault(for: target) {
            switch faulty.kind {
            case .serverError:
                return .appleError(
                    9603,
                    "Internal error",
                    status: 500,
                    headers: ["Retry-After": "\(faulty.retryAfterSeconds ?? 1)"]
                )
            case .serviceUnavailable:
                var headers: [String: String] = [:]
                if let seconds = faulty.retryAfterSeconds { headers["Retry-After"] = "\(seconds)" }
                return .appleError(9729, "Service temporarily unavailable", status: 503, headers: headers)
            case .invalidTokenOn200:
                return .appleError(9622, "Invalid authentication token", status: 200)
            case .rateLimited:
                var headers: [String: String] = [:]
                if let seconds = faulty.retryAfterSeconds { headers["Retry-After"] = "\(seconds)" }
                return .appleError(9646, "Too many requests", status: 429, headers: headers)
            case .slow:
                try? await Task.sleep(for: .milliseconds(faulty.delayMilliseconds ?? 2_000))
                return await route(endpoint, request)
            case .truncatedJSON:
                var response = await route(endpoint, request)
                response.body = response.body.prefix(max(1, response.body.count / 2))
                return response
            case .connectionReset:
                var response = await route(endpoint, request)
                response.delivery = .connectionReset
                return response
            case .ignoresFilters:
                var unfiltered = request
                unfiltered.query = request.query.filter { ["pageIndex", "sinceVersionId"].contains($0.key) }
                return await route(endpoint, unfiltered)
            }
        }
        return await route(endpoint, request)
    }

    /// The first pending fault whose `pathContains` matches `target` (path, `?`, then the query sorted by name).
    private func takeFault(for target: String) -> SimulatorFault? {
        guard let index = faults.firstIndex(where: { $0.pathContains.map(target.contains) ?? true }) else { return nil }
        let fault = faults[index]
        faults[index].count -= 1
        if faults[index].count <= 0 { faults.remove(at: index) }
        return fault
    }

    private func route(_ endpoint: String, _ request: SimRequest) async -> SimResponse {
        if endpoint == "service/config" {
            guard request.method == "GET" else { return .appleError(9726, "Unsupported HTTP method", status: 405) }
            return serviceConfig()
        }
        let authorised: (token: SimToken, location: SimLocation)
        switch authorise(request) {
        case .failure(let response): return response
        case .success(let value): authorised = value
        }
        if let limited = rateLimit(authorised.location.uId) { return limited }
        let uid = authorised.location.uId
        if request.method == "POST", request.header("content-type")?.hasPrefix("application/json") != true {
            return .appleError(9727, "Unsupported Content-Type", status: 415)
        }
        let answer: Answer
        switch (request.method, endpoint) {
        case ("GET", "client/config"): answer = clientConfig(uid)
        case ("POST", "client/config"): answer = await updateClientConfig(uid, request.body)
        case ("GET", "assets"): answer = assets(uid, request.query)
        case ("GET", "assignments"): answer = assignments(uid, request.query)
        case ("POST", "assets/associate"): answer = manageAssets(uid, request.body, type: "ASSOCIATE")
        case ("POST", "assets/disassociate"): answer = manageAssets(uid, request.body, type: "DISASSOCIATE")
        case ("POST", "assets/revoke"): answer = revokeAssets(uid, request.body)
        case ("GET", "status"): answer = status(uid, request.query["eventId"])
        case ("GET", "users"): answer = users(uid, request.query)
        case ("POST", "users/create"): answer = manageUsers(uid, request.body, type: "CREATE")
        case ("POST", "users/update"): answer = manageUsers(uid, request.body, type: "UPDATE")
        case ("POST", "users/retire"): answer = manageUsers(uid, request.body, type: "RETIRE")
        case (_, "client/config"), (_, "assets"), (_, "assignments"), (_, "status"), (_, "users"),
            (_, "assets/associate"), (_, "assets/disassociate"), (_, "assets/revoke"),
            (_, "users/create"), (_, "users/update"), (_, "users/retire"):
            return .appleError(9726, "Unsupported HTTP method", status: 405)
        default:
            return .json(404, ["errorNumber": 9602, "errorMessage": "Unknown endpoint \(endpoint)"])
        }
        switch answer {
        case .error(let response):
            return response
        case .ok(var object):
            // Every successful authenticated answer carries uId, tokenExpirationDate and mdmInfo (when set).
            object["uId"] = uid
            object["tokenExpirationDate"] = Self.formatDate(authorised.token.expiresAt)
            if let info = locations[uid]?.mdmInfo {
                object["mdmInfo"] = ["id": info.id, "name": info.name, "metadata": info.metadata]
            }
            return .json(200, object)
        }
    }

    private enum Authorisation {
        case success((token: SimToken, location: SimLocation))
        case failure(SimResponse)
    }

    private func authorise(_ request: SimRequest) -> Authorisation {
        guard let header = request.header("authorization"), header.hasPrefix("Bearer ") else {
            return .failure(
                .appleError(9722, "Authorization header must match the format 'Bearer {sToken}'", status: 401)
            )
        }
        let bearer = String(header.dropFirst("Bearer ".count))
        guard Self.looksLikeToken(bearer) else {
            return .failure(
                .appleError(9722, "Authorization header must match the format 'Bearer {sToken}'", status: 401)
            )
        }
        guard let token = tokens[bearer], let location = locations[token.locationUID] else {
            return .failure(.appleError(9622, "Invalid authentication token", status: settings.invalidTokenStatus))
        }
        if token.revoked { return .failure(.appleError(9625, "The sToken has been revoked.", status: 401)) }
        if token.expiresAt <= now() { return .failure(.appleError(9621, "The sToken has expired.", status: 401)) }
        return .success((token, location))
    }

    /// A bearer must be Base64 of a JSON object with token, expDate and orgName.
    static func looksLikeToken(_ bearer: String) -> Bool {
        var text = bearer.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        guard let data = Data(base64Encoded: text),
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { return false }
        return ["token", "expDate", "orgName"].allSatisfy { object[$0] is String }
    }

    private func rateLimit(_ uid: String) -> SimResponse? {
        guard let rate = settings.requestsPerSecond, rate > 0 else { return nil }
        var bucket = buckets[uid] ?? TokenBucket(rate: rate, now: now())
        let allowed = bucket.take(rate: rate, now: now())
        buckets[uid] = bucket
        if allowed { return nil }
        rateLimitedCount += 1
        var headers: [String: String] = [:]
        if let seconds = settings.rateLimitRetryAfter { headers["Retry-After"] = "\(seconds)" }
        return .appleError(
            9646,
            "Too many requests for the organization. Back off and retry.",
            status: 429,
            headers: headers
        )
    }

    // MARK: service/config and client/config

    private func serviceConfig() -> SimResponse {
        let base = publicBaseURL + "/mdm/v2/"
        let urls: [String: String] = [
            "clientConfig": base + "client/config", "getAssets": base + "assets",
            "getAssignments": base + "assignments",
            "associateAssets": base + "assets/associate", "disassociateAssets": base + "assets/disassociate",
            "revokeAssets": base + "assets/revoke", "eventStatus": base + "status", "getUsers": base + "users",
            "createUsers": base + "users/create", "updateUsers": base + "users/update",
            "retireUsers": base + "users/retire",
            "contentMetadataLookup": publicBaseURL + Self.lookupPath,
            "invitationEmail":
                "https://buy.itunes.apple.com/WebObjects/MZFinance.woa/wa/associateVPPUserWithITSAccount"
                + "?inviteCode=%25inviteCode%25&mt=8",
        ]
        let codes: [[String: Any]] = Self.errorTable.map { ["errorNumber": $0.key, "errorMessage": $0.value] }
        return .json(
            200,
            [
                "limits": settings.limits, "urls": urls, "errorCodes": codes,
                "notificationTypes": ["ASSET_MANAGEMENT", "USER_MANAGEMENT", "USER_ASSOCIATED", "ASSET_COUNT"],
            ]
        )
    }

    static let errorTable: [Int: String] = [
        9601: "Login required", 9602: "Invalid argument", 9603: "Internal error", 9609: "Registered user not found",
        9621: "Token expired", 9622: "Invalid authentication token", 9625: "sToken revoked", 9646: "Too many requests",
        9650: "Bad page index", 9700: "Too many assets", 9701: "Too many clientUserIds",
        9702: "Too many serial numbers",
        9703: "Duplicate assets", 9704: "Duplicate clientUserIds", 9705: "Duplicate serial numbers",
        9706: "Asset not revocable", 9707: "Asset not device assignable", 9708: "Event not found",
        9709: "Not enough licenses", 9710: "notificationUrl and notificationAuthToken are both required",
        9711: "Notification value too long", 9712: "notificationUrl must be a valid HTTPS URL",
        9713: "mdmInfo metadata too long", 9714: "Too many users", 9715: "Duplicate users",
        9716: "clientUserId already exists",
        9717: "Invalid email", 9718: "Missing assets", 9719: "Missing clientUserIds or serialNumbers",
        9720: "Missing users",
        9721: "Invalid versionId", 9722: "Invalid Authorization header", 9723: "mdmInfo requires id, name and metadata",
        9724: "mdmInfo id too long", 9725: "mdmInfo name too long", 9726: "Unsupported HTTP method",
        9727: "Unsupported Content-Type", 9728: "Notification URL unreachable", 9729: "Service temporarily unavailable",
    ]

    private func clientConfig(_ uid: String) -> Answer {
        guard let location = locations[uid] else {
            return .error(.appleError(9622, "Invalid authentication token", status: 200))
        }
        var object: [String: Any] = [
            "countryISO2ACode": location.countryCode, "defaultPlatform": "enterprisestore",
            "locationName": location.name,
            "subscribedNotificationTypes": location.notificationTypes, "websiteURL": "https://business.apple.com",
        ]
        if let url = location.notificationUrl { object["notificationUrl"] = url }
        if let secret = location.notificationAuthToken { object["notificationAuthToken"] = secret }
        return .ok(object)
    }

    private func updateClientConfig(_ uid: String, _ body: Data) async -> Answer {
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            return .error(.appleError(9602, "Invalid argument: body is not a JSON object", status: 400))
        }
        let limit = { (name: String) in self.settings.limits[name] ?? Int.max }
        var newInfo: SimMDMInfo?
        if let raw = object["mdmInfo"] {
            guard let info = raw as? [String: Any], let id = info["id"] as? String, let name = info["name"] as? String,
                let metadata = info["metadata"] as? String, !id.isEmpty, !name.isEmpty
            else { return .error(.appleError(9723, Self.errorTable[9723]!, status: 400)) }
            if id.count > limit("maxMdmIdLength") {
                return .error(.appleError(9724, Self.errorTable[9724]!, status: 400))
            }
            if name.count > limit("maxMdmNameLength") {
                return .error(.appleError(9725, Self.errorTable[9725]!, status: 400))
            }
            if metadata.count > limit("maxMdmMetadataLength") {
                return .error(.appleError(9713, Self.errorTable[9713]!, status: 400))
            }
            newInfo = SimMDMInfo(id: id, name: name, metadata: metadata)
        }
        let url = object["notificationUrl"] as? String
        let secret = object["notificationAuthToken"] as? String
        if (url == nil) != (secret == nil) { return .error(.appleError(9710, Self.errorTable[9710]!, status: 400)) }
        if let url, let secret {
            if url.count > limit("maxNotificationLength") || secret.count > limit("maxNotificationLength") {
                return .error(.appleError(9711, Self.errorTable[9711]!, status: 400))
            }
            let scheme = URL(string: url)?.scheme
            let schemeOK =
                settings.requireHTTPSNotificationURL ? scheme == "https" : (scheme == "https" || scheme == "http")
            if !schemeOK || URL(string: url)?.host == nil {
                return .error(.appleError(9712, Self.errorTable[9712]!, status: 400))
            }
        }
        let allowedTypes: Set<String> = [
            "TEST_NOTIFICATION", "ASSET_MANAGEMENT", "USER_MANAGEMENT", "USER_ASSOCIATED",
            "ASSET_COUNT", "SUBSCRIPTION_MANAGEMENT", "SUBSCRIPTION_COUNT", "UNLIMITED_ASSET",
        ]
        var types: [String]?
        if let raw = object["notificationTypes"] {
            guard let list = raw as? [String], list.allSatisfy(allowedTypes.contains) else {
                return .error(.appleError(9602, "Invalid argument: unknown notification type", status: 400))
            }
            types = list
        }
        if let url, let secret {
            // Apple sends a TEST_NOTIFICATION and rejects the configuration when it is not delivered.
            let delivered = await notifier.deliver(
                url: url,
                bearer: secret,
                envelope: [
                    "notification": [String: Any](), "notificationId": UUID().uuidString.lowercased(),
                    "notificationType": "TEST_NOTIFICATION", "uId": uid,
                ],
                attempts: 1
            )
            if !delivered { return .error(.appleError(9728, Self.errorTable[9728]!, status: 400)) }
        }
        do {
            try mutateLocation(uid) { location in
                if let newInfo { location.mdmInfo = newInfo }
                if let url, let secret {
                    location.notificationUrl = url
                    location.notificationAuthToken = secret
                }
                if let types { location.notificationTypes = types }
            }
        } catch { return .error(.appleError(9603, "Internal error", status: 500)) }
        return clientConfig(uid)
    }

    // MARK: Reads

    private func assets(_ uid: String, _ query: [String: String]) -> Answer {
        guard let location = locations[uid] else { return .error(.appleError(9603, "Internal error", status: 500)) }
        func int(_ name: String) -> Int? { query[name].flatMap(Int.init) }
        func bool(_ name: String) -> Bool? { query[name].map { $0 == "true" || $0 == "1" } }
        let matching = location.assetOrder.filter { key in
            guard let asset = location.assets[key] else { return false }
            let assigned = location.assignedCount(key)
            let available = max(0, asset.totalCount - assigned)
            if let v = query["adamId"], v != asset.adamId { return false }
            if let v = query["pricingParam"], v != asset.pricingParam { return false }
            if let v = query["productType"], v != asset.productType { return false }
            if let v = bool("revocable"), v != asset.revocable { return false }
            if let v = bool("deviceAssignable"), v != asset.deviceAssignable { return false }
            if let v = int("maxAvailableCount"), available > v { return false }
            if let v = int("minAvailableCount"), available < v { return false }
            if let v = int("maxAssignedCount"), assigned > v { return false }
            if let v = int("minAssignedCount"), assigned < v { return false }
            return true
        }
        return paged(matching, key: "assets", query: query, versionId: location.currentVersionId) { key in
            let asset = location.assets[key]!
            let assigned = location.assignedCount(key)
            return [
                "adamId": asset.adamId, "pricingParam": asset.pricingParam, "productType": asset.productType,
                "assignedCount": assigned, "availableCount": max(0, asset.totalCount - assigned),
                "retiredCount": asset.retiredCount,
                "totalCount": asset.totalCount, "deviceAssignable": asset.deviceAssignable,
                "revocable": asset.revocable,
                "supportedPlatforms": asset.supportedPlatforms,
            ]
        }
    }

    private func assignments(_ uid: String, _ query: [String: String]) -> Answer {
        guard let location = locations[uid] else { return .error(.appleError(9603, "Internal error", status: 500)) }
        var sinceVersion = 0
        if let since = query["sinceVersionId"] {
            guard let version = location.versionIds[since] else {
                return .error(.appleError(9721, Self.errorTable[9721]!, status: 400))
            }
            sinceVersion = version
        }
        var filter = query
        filter["pageIndex"] = nil
        let cacheKey = AssignmentWalkCache.Key(
            locationUID: uid,
            revision: location.assignmentRevision,
            version: location.version,
            filter: filter
        )
        if let cache = assignmentWalkCache, cache.key == cacheKey {
            return renderAssignments(cache.matching, query: query, versionId: location.currentVersionId)
        }
        let matching = location.assignments.filter { assignment in
            if assignment.modifiedAtVersion <= sinceVersion { return false }
            if let v = query["adamId"], v != assignment.asset.adamId { return false }
            if let v = query["pricingParam"], v != assignment.asset.pricingParam { return false }
            if let v = query["serialNumber"], v != assignment.serialNumber { return false }
            if let v = query["clientUserId"], v != assignment.clientUserId { return false }
            return true
        }
        assignmentWalkCache = AssignmentWalkCache(key: cacheKey, matching: matching)
        return renderAssignments(matching, query: query, versionId: location.currentVersionId)
    }

    /// One assignment as Apple lists it (absent fields omitted).
    private struct AssignmentItem: Encodable {
        let adamId: String
        let pricingParam: String
        let serialNumber: String?
        let clientUserId: String?
    }

    private func renderAssignments(_ matching: [SimAssignment], query: [String: String], versionId: String) -> Answer {
        pagedEncoded(matching, key: "assignments", query: query, versionId: versionId) { assignment in
            AssignmentItem(
                adamId: assignment.asset.adamId,
                pricingParam: assignment.asset.pricingParam,
                serialNumber: assignment.serialNumber,
                clientUserId: assignment.clientUserId
            )
        }
    }

    private func users(_ uid: String, _ query: [String: String]) -> Answer {
        guard let location = locations[uid] else { return .error(.appleError(9603, "Internal error", status: 500)) }
        var sinceVersion = 0
        if let since = query["sinceVersionId"] {
            guard let version = location.versionIds[since] else {
                return .error(.appleError(9721, Self.errorTable[9721]!, status: 400))
            }
            sinceVersion = version
        }
        let matching = location.users.filter { user in
            if user.modifiedAtVersion <= sinceVersion { return false }
            if query["activeOnly"] == "true", user.status == "Retired" { return false }
            if query["retiredOnly"] == "true", user.status != "Retired" { return false }
            if let v = query["clientUserId"], v != user.clientUserId { return false }
            return true
        }
        return paged(matching, key: "users", query: query, versionId: location.currentVersionId) { user in
            var item: [String: Any] = ["clientUserId": user.clientUserId, "status": user.status]
            if let email = user.email { item["email"] = email }
            if let code = user.inviteCode, user.status == "Registered" { item["inviteCode"] = code }
            if let hash = user.idHash { item["idHash"] = hash }
            return item
        }
    }

    /// One page of `matching`; only the items on the page are rendered to JSON.
    private func paged<T>(
        _ matching: [T],
        key: String,
        query: [String: String],
        versionId: String,
        render: (T) -> [String: Any]
    ) -> Answer {
        page(of: matching, key: key, query: query, versionId: versionId) { $0.map(render) }
    }

    /// One page of `matching`, its items encoded by `JSONEncoder` (see ``EncodedJSON``).
    private func pagedEncoded<T, Item: Encodable>(
        _ matching: [T],
        key: String,
        query: [String: String],
        versionId: String,
        render: (T) -> Item
    ) -> Answer {
        page(of: matching, key: key, query: query, versionId: versionId) { try EncodedJSON($0.map(render)) }
    }

    private func page<T>(
        of matching: [T],
        key: String,
        query: [String: String],
        versionId: String,
        items: (ArraySlice<T>) throws -> Any
    ) -> Answer {
        guard
            let page = SimPage(
                count: matching.count,
                pageIndexText: query["pageIndex"],
                pageSize: settings.pageSize,
                versionId: versionId
            )
        else {
            return .error(
                .appleError(
                    9650,
                    "Page index must be greater than 0, and less than the total number of pages",
                    status: 400
                )
            )
        }
        var object = page.fields
        do {
            object[key] = try items(matching[page.range])
        } catch {
            return .error(.appleError(9603, "Internal error", status: 500))
        }
        return .ok(object)
    }

    private func status(_ uid: String, _ eventId: String?) -> Answer {
        guard let eventId, let event = locations[uid]?.events[eventId] else {
            return .error(.appleError(9708, Self.errorTable[9708]!, status: 400))
        }
        var object: [String: Any] = [
            "eventStatus": event.status, "eventType": event.type,
            "numCompleted": event.numCompleted, "numRequested": event.numRequested,
        ]
        if !event.failures.isEmpty { object["failures"] = event.failures.map(Self.failureObject) }
        return .ok(object)
    }

    static func failureObject(_ failure: SimFailure) -> [String: Any] {
        var info: [String: Any] = [:]
        if !failure.serialNumbers.isEmpty { info["serialNumbers"] = failure.serialNumbers }
        if !failure.clientUserIds.isEmpty { info["clientUserIds"] = failure.clientUserIds }
        if !failure.assets.isEmpty {
            info["assets"] = failure.assets.map { ["adamId": $0.adamId, "pricingParam": $0.pricingParam] }
        }
        var object: [String: Any] = ["errorNumber": failure.errorNumber, "errorMessage": failure.errorMessage]
        if !info.isEmpty { object["errorInfo"] = info }
        return object
    }
}
