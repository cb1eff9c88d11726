import AsyncHTTPClient
import Foundation
import Logging
import NIOHTTP1
import VPPDomain
import VPPUseCases

/// Apple's Apps and Books v2 API over HTTP (AsyncHTTPClient).
///
/// Batches by the limits of `service/config` (cached for five minutes), walks every page with at most
/// five in flight, retries transient failures politely, and checks `mdmInfo` on every answer.
public struct HTTPAppleAppsAndBooksClient: AppleAppsAndBooks {
    let configuration: AppleClientConfiguration
    let transport: AppleTransport
    let serviceConfigCache: ServiceConfigCache
    let pager: ApplePager

    /// - Parameters:
    ///   - limiter: shares each token's request budget; pass a database-backed one when several servers run.
    public init(
        configuration: AppleClientConfiguration,
        httpClient: HTTPClient = AppleHTTPClient.shared,
        limiter: any AppleRequestLimiter = InProcessRequestLimiter(),
        logger: Logger = Logger(label: "vpp.apple")
    ) {
        self.configuration = configuration
        self.transport = AppleTransport(
            configuration: configuration,
            httpClient: httpClient,
            limiter: limiter,
            logger: logger
        )
        self.serviceConfigCache = ServiceConfigCache(ttl: configuration.serviceConfigTTL)
        self.pager = ApplePager(
            concurrency: min(5, max(1, configuration.pageConcurrency)),
            maxRestarts: configuration.maxWalkRestarts
        )
    }

    private func url(_ path: String) -> String { configuration.baseURL + "/" + path }

    // MARK: Configuration

    public func serviceLimits() async throws -> AppleServiceLimits {
        try await serviceConfigCache.value {
            let answer = try await transport.send(method: .GET, url: url("service/config"), credentials: nil, rate: 0)
            let wire = try decode(WireServiceConfig.self, answer)
            var limits = AppleServiceLimits()
            let values = wire.limits ?? [:]
            limits.maxAssets = values["maxAssets"] ?? limits.maxAssets
            limits.maxSerialNumbers = values["maxSerialNumbers"] ?? limits.maxSerialNumbers
            limits.maxClientUserIds = values["maxClientUserIds"] ?? limits.maxClientUserIds
            limits.maxRevokeSerialNumbers = values["maxRevokeSerialNumbers"] ?? limits.maxRevokeSerialNumbers
            limits.maxRevokeClientUserIds = values["maxRevokeClientUserIds"] ?? limits.maxRevokeClientUserIds
            limits.maxUsers = values["maxUsers"] ?? limits.maxUsers
            limits.maxRequestPerSecond = values["maxRequestPerSecond"] ?? limits.maxRequestPerSecond
            limits.maxNotificationLength = values["maxNotificationLength"] ?? limits.maxNotificationLength
            limits.contentMetadataLookupURL = wire.urls?["contentMetadataLookup"]
            return limits
        }
    }

    public func clientConfig(_ credentials: AppleCredentials) async throws -> AppleLocationConfig {
        let answer = try await send(.GET, "client/config", credentials: credentials)
        return try locationConfig(answer)
    }

    public func updateClientConfig(
        _ credentials: AppleCredentials,
        holder: HolderIdentity?,
        notifications: AppleNotificationSettings?
    ) async throws -> AppleLocationConfig {
        let request = WireClientConfigRequest(
            mdmInfo: holder.map { WireMDMInfo(id: $0.id, name: $0.name, metadata: $0.metadata) },
            notificationUrl: notifications?.url,
            notificationAuthToken: notifications?.authToken,
            notificationTypes: notifications?.types
        )
        let answer = try await send(.POST, "client/config", body: try encode(request), credentials: credentials)
        return try locationConfig(answer)
    }

    private func locationConfig(_ answer: AppleTransport.Answer) throws -> AppleLocationConfig {
        let wire = try decode(WireClientConfig.self, answer)
        guard let name = wire.locationName else {
            throw AppleAPIError.malformedResponse(status: 200, excerpt: "client/config without locationName")
        }
        return AppleLocationConfig(
            context: answer.context,
            location: Location(
                appleID: wire.uId ?? answer.context.locationUID,
                name: name,
                countryCode: wire.countryISO2ACode ?? ""
            ),
            defaultPlatform: wire.defaultPlatform,
            websiteURL: wire.websiteURL,
            notificationURL: wire.notificationUrl,
            subscribedNotificationTypes: wire.subscribedNotificationTypes ?? []
        )
    }

    // MARK: Paged reads

    public func assets(
        _ credentials: AppleCredentials,
        filter: AppleAssetFilter
    ) async throws -> AppleWalk<AppleAssetRecord> {
        var query: [(String, String)] = []
        func add(_ name: String, _ value: (some CustomStringConvertible)?) {
            if let value { query.append((name, value.description)) }
        }
        add("adamId", filter.adamID)
        add("pricingParam", filter.pricingParam?.rawValue)
        add("productType", filter.productType?.rawValue)
        add("revocable", filter.revocable)
        add("deviceAssignable", filter.deviceAssignable)
        add("minAvailableCount", filter.minAvailableCount)
        add("maxAvailableCount", filter.maxAvailableCount)
        add("minAssignedCount", filter.minAssignedCount)
        add("maxAssignedCount", filter.maxAssignedCount)
        return try await walk(WireAssetsPage.self, "assets", query: query, credentials: credentials) { wire in
            try Self.assetRecord(wire)
        }
    }

    static func assetRecord(_ wire: WireAsset) throws -> AppleAssetRecord {
        let asset = Asset(
            key: AssetKey(
                adamID: wire.adamId,
                pricingParam: PricingParam(rawValue: wire.pricingParam ?? "STDQ") ?? .standard
            ),
            productType: ProductType(rawValue: wire.productType ?? "App") ?? .app,
            platforms: Set((wire.supportedPlatforms ?? []).compactMap(Platform.init(rawValue:))),
            isDeviceAssignable: wire.deviceAssignable ?? false,
            isRevocable: wire.revocable ?? false
        )
        let total = wire.totalCount ?? LicenceCounts.unlimitedTotal
        let assigned = wire.assignedCount ?? 0
        let counts: LicenceCounts
        do {
            counts = try LicenceCounts(
                total: total,
                assigned: assigned,
                available: wire.availableCount ?? max(0, total - assigned),
                retired: wire.retiredCount ?? 0
            )
        } catch {
            throw AppleAPIError.malformedResponse(status: 200, excerpt: "asset \(wire.adamId): \(error)")
        }
        return AppleAssetRecord(asset: asset, counts: counts)
    }

    public func assignments(
        _ credentials: AppleCredentials,
        filter: AppleAssignmentFilter
    ) async throws -> AppleWalk<AppleAssignmentRecord> {
        try await walk(
            WireAssignmentsPage.self,
            "assignments",
            query: Self.query(filter),
            credentials: credentials,
            Self.assignment
        )
    }

    public func streamAssignments(
        _ credentials: AppleCredentials,
        filter: AppleAssignmentFilter,
        restart: @Sendable () async throws -> Void,
        page: @Sendable ([AppleAssignmentRecord]) async throws -> Void
    ) async throws
        -> AppleWalk<AppleAssignmentRecord>
    {
        let rate = try await serviceLimits().maxRequestPerSecond
        let base = Self.query(filter)
        return try await pager.stream(
            { index in
                try await pageOf(
                    WireAssignmentsPage.self,
                    "assignments",
                    query: base,
                    index: index,
                    credentials: credentials,
                    rate: rate,
                    Self.assignment
                )
            },
            restart: restart,
            page: { _, items in try await page(items) }
        )
    }

    private static func assignment(_ wire: WireAssignmentsPage.Item) throws -> AppleAssignmentRecord {
        let key = AssetKey(
            adamID: wire.adamId,
            pricingParam: PricingParam(rawValue: wire.pricingParam ?? "STDQ") ?? .standard
        )
        if let serial = wire.serialNumber { return AppleAssignmentRecord(asset: key, assignee: .serialNumber(serial)) }
        if let user = wire.clientUserId { return AppleAssignmentRecord(asset: key, assignee: .clientUserID(user)) }
        throw AppleAPIError.malformedResponse(
            status: 200,
            excerpt: "assignment of \(wire.adamId) without serialNumber or clientUserId"
        )
    }

    private static func query(_ filter: AppleAssignmentFilter) -> [(String, String)] {
        var query: [(String, String)] = []
        if let v = filter.adamID { query.append(("adamId", v)) }
        if let v = filter.pricingParam { query.append(("pricingParam", v.rawValue)) }
        if let v = filter.serialNumber { query.append(("serialNumber", v)) }
        if let v = filter.clientUserID { query.append(("clientUserId", v)) }
        if let v = filter.sinceVersionID { query.append(("sinceVersionId", v)) }
        return query
    }

    public func users(
        _ credentials: AppleCredentials,
        filter: AppleUserFilter
    ) async throws -> AppleWalk<AppleUserRecord> {
        var query: [(String, String)] = []
        if let v = filter.activeOnly { query.append(("activeOnly", "\(v)")) }
        if let v = filter.retiredOnly { query.append(("retiredOnly", "\(v)")) }
        if let v = filter.clientUserID { query.append(("clientUserId", v)) }
        if let v = filter.sinceVersionID { query.append(("sinceVersionId", v)) }
        return try await walk(WireUsersPage.self, "users", query: query, credentials: credentials) { wire in
            AppleUserRecord(
                clientUserID: wire.clientUserId,
                email: wire.email,
                status: wire.status ?? "Registered",
                inviteCode: wire.inviteCode,
                idHash: wire.idHash
            )
        }
    }

    private func walk<Page: WirePage, Item: Sendable>(
        _ type: Page.Type,
        _ path: String,
        query: [(String, String)],
        credentials: AppleCredentials,
        _ convert: @escaping @Sendable (Page.Item) throws -> Item
    ) async throws -> AppleWalk<Item> {
        let rate = try await serviceLimits().maxRequestPerSecond
        let base = query
        return try await pager.walk { index in
            try await pageOf(type, path, query: base, index: index, credentials: credentials, rate: rate, convert)
        }
    }

    /// One page of a paged endpoint.
    private func pageOf<Page: WirePage, Item: Sendable>(
        _ type: Page.Type,
        _ path: String,
        query: [(String, String)],
        index: Int,
        credentials: AppleCredentials,
        rate: Int,
        _ convert: @Sendable (Page.Item) throws -> Item
    ) async throws -> ApplePager.Page<Item> {
        let answer = try await transport.send(
            method: .GET,
            url: url(path),
            query: query + [("pageIndex", "\(index)")],
            credentials: credentials,
            rate: rate
        )
        let page = try decode(Page.self, answer)
        guard let versionId = page.versionId else {
            throw AppleAPIError.malformedResponse(status: 200, excerpt: "\(path) page \(index) without versionId")
        }
        return ApplePager.Page(
            items: try page.items.map(convert),
            nextPageIndex: page.nextPageIndex,
            totalPages: page.totalPages ?? 1,
            versionId: versionId,
            context: answer.context
        )
    }

    // MARK: Asynchronous writes

    public func associate(
        _ credentials: AppleCredentials,
        assets: [AssetKey],
        serialNumbers: [String],
        clientUserIDs: [String]
    ) async throws -> [AppleEventTicket] {
        try await manage(
            "assets/associate",
            credentials,
            assets: assets,
            serialNumbers: serialNumbers,
            clientUserIDs: clientUserIDs
        )
    }

    public func disassociate(
        _ credentials: AppleCredentials,
        assets: [AssetKey],
        serialNumbers: [String],
        clientUserIDs: [String]
    ) async throws -> [AppleEventTicket] {
        try await manage(
            "assets/disassociate",
            credentials,
            assets: assets,
            serialNumbers: serialNumbers,
            clientUserIDs: clientUserIDs
        )
    }

    /// Serial numbers and clientUserIds go in separate requests: Apple's documentation is ambiguous on
    /// mixing them (reference §10.1), and separate requests keep failures attributable.
    private func manage(
        _ path: String,
        _ credentials: AppleCredentials,
        assets: [AssetKey],
        serialNumbers: [String],
        clientUserIDs: [String]
    ) async throws -> [AppleEventTicket] {
        let limits = try await serviceLimits()
        var tickets: [AppleEventTicket] = []
        for assetChunk in chunked(assets, by: limits.maxAssets) {
            let wireAssets = assetChunk.map { WireAssetKey(adamId: $0.adamID, pricingParam: $0.pricingParam.rawValue) }
            for serials in chunked(serialNumbers, by: limits.maxSerialNumbers) {
                let body = try encode(
                    WireManageAssetsRequest(assets: wireAssets, serialNumbers: serials, clientUserIds: nil)
                )
                let event = try await eventID(send(.POST, path, body: body, credentials: credentials))
                tickets.append(AppleEventTicket(eventID: event, assets: assetChunk, serialNumbers: serials))
            }
            for users in chunked(clientUserIDs, by: limits.maxClientUserIds) {
                let body = try encode(
                    WireManageAssetsRequest(assets: wireAssets, serialNumbers: nil, clientUserIds: users)
                )
                let event = try await eventID(send(.POST, path, body: body, credentials: credentials))
                tickets.append(AppleEventTicket(eventID: event, assets: assetChunk, clientUserIDs: users))
            }
        }
        return tickets
    }

    public func revoke(
        _ credentials: AppleCredentials,
        serialNumbers: [String],
        clientUserIDs: [String]
    ) async throws -> [AppleEventTicket] {
        let limits = try await serviceLimits()
        var tickets: [AppleEventTicket] = []
        for serials in chunked(serialNumbers, by: limits.maxRevokeSerialNumbers) {
            let body = try encode(WireRevokeRequest(serialNumbers: serials, clientUserIds: nil))
            tickets.append(
                AppleEventTicket(
                    eventID: try eventID(try await send(.POST, "assets/revoke", body: body, credentials: credentials)),
                    serialNumbers: serials
                )
            )
        }
        for users in chunked(clientUserIDs, by: limits.maxRevokeClientUserIds) {
            let body = try encode(WireRevokeRequest(serialNumbers: nil, clientUserIds: users))
            tickets.append(
                AppleEventTicket(
                    eventID: try eventID(try await send(.POST, "assets/revoke", body: body, credentials: credentials)),
                    clientUserIDs: users
                )
            )
        }
        return tickets
    }

    public func eventStatus(_ credentials: AppleCredentials, eventID: String) async throws -> AppleEventStatus {
        let answer = try await send(.GET, "status", query: [("eventId", eventID)], credentials: credentials)
        let wire = try decode(WireStatus.self, answer)
        guard let state = wire.eventStatus.flatMap(AppleEventStatus.State.init(rawValue:)) else {
            throw AppleAPIError.malformedResponse(status: 200, excerpt: "status without a known eventStatus")
        }
        let failures = (wire.failures ?? []).map { failure in
            AppleEventStatus.Failure(
                error: AppleAPIError.from(errorNumber: failure.errorNumber ?? 0, message: failure.errorMessage ?? ""),
                errorNumber: failure.errorNumber ?? 0,
                serialNumbers: failure.errorInfo?.serialNumbers ?? [],
                clientUserIDs: failure.errorInfo?.clientUserIds ?? [],
                assets: (failure.errorInfo?.assets ?? []).map {
                    AssetKey(
                        adamID: $0.adamId,
                        pricingParam: PricingParam(rawValue: $0.pricingParam ?? "STDQ") ?? .standard
                    )
                }
            )
        }
        return AppleEventStatus(
            state: state,
            type: wire.eventType ?? "",
            numCompleted: wire.numCompleted ?? 0,
            numRequested: wire.numRequested ?? 0,
            failures: failures,
            context: answer.context
        )
    }

    public func createUsers(
        _ credentials: AppleCredentials,
        _ users: [AppleUserRequest]
    ) async throws -> [AppleEventTicket] {
        try await manageUsers("users/create", credentials, users)
    }

    public func updateUsers(
        _ credentials: AppleCredentials,
        _ users: [AppleUserRequest]
    ) async throws -> [AppleEventTicket] {
        try await manageUsers("users/update", credentials, users)
    }

    public func retireUsers(_ credentials: AppleCredentials, clientUserIDs: [String]) async throws -> [AppleEventTicket]
    {
        try await manageUsers("users/retire", credentials, clientUserIDs.map { AppleUserRequest(clientUserID: $0) })
    }

    private func manageUsers(
        _ path: String,
        _ credentials: AppleCredentials,
        _ users: [AppleUserRequest]
    ) async throws -> [AppleEventTicket] {
        let limits = try await serviceLimits()
        var tickets: [AppleEventTicket] = []
        for chunk in chunked(users, by: limits.maxUsers) {
            let body = try encode(
                WireManageUsersRequest(
                    users: chunk.map {
                        WireUserRequest(
                            clientUserId: $0.clientUserID,
                            email: $0.email,
                            managedAppleId: $0.managedAppleID
                        )
                    }
                )
            )
            tickets.append(
                AppleEventTicket(
                    eventID: try eventID(try await send(.POST, path, body: body, credentials: credentials)),
                    clientUserIDs: chunk.map(\.clientUserID)
                )
            )
        }
        return tickets
    }

    // MARK: Plumbing

    private func send(
        _ method: HTTPMethod,
        _ path: String,
        query: [(String, String)] = [],
        body: Data? = nil,
        credentials: AppleCredentials
    ) async throws -> AppleTransport.Answer {
        let rate = try await serviceLimits().maxRequestPerSecond
        return try await transport.send(
            method: method,
            url: url(path),
            query: query,
            body: body,
            credentials: credentials,
            rate: rate
        )
    }

    private func eventID(_ answer: AppleTransport.Answer) throws -> String {
        guard let id = try decode(WireEventResponse.self, answer).eventId, !id.isEmpty else {
            throw AppleAPIError.malformedResponse(status: 200, excerpt: "no eventId in the answer")
        }
        return id
    }

    private func decode<T: Decodable>(_ type: T.Type, _ answer: AppleTransport.Answer) throws -> T {
        do { return try JSONDecoder().decode(type, from: answer.body) } catch {
            throw AppleAPIError.malformedResponse(
                status: 200,
                excerpt: String(decoding: answer.body.prefix(200), as: UTF8.self)
            )
        }
    }

    private func encode<T: Encodable>(_ value: T) throws -> Data {
        try JSONEncoder().encode(value)
    }
}

/// `service/config` cached for its time-to-live; concurrent callers share one fetch.
actor ServiceConfigCache {
    private let ttl: Duration
    private var cached: (value: AppleServiceLimits, fetchedAt: ContinuousClock.Instant)?
    private var inFlight: Task<AppleServiceLimits, any Error>?

    init(ttl: Duration) { self.ttl = ttl }

    func value(_ fetch: @escaping @Sendable () async throws -> AppleServiceLimits) async throws -> AppleServiceLimits {
        if let cached, ContinuousClock.now - cached.fetchedAt < ttl { return cached.value }
        if let inFlight { return try await inFlight.value }
        let task = Task { try await fetch() }
        inFlight = task
        defer { inFlight = nil }
        let value = try await task.value
        cached = (value, ContinuousClock.now)
        return value
    }
}
