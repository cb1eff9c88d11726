import Foundation
import Logging

/// A conformant fake of Apple's Apps and Books v2 API (see the reference's §9), with an admin surface
/// to seed it and to inject faults. All state lives in this actor; ``SimulatorServer`` puts it on a port.
public actor AppleSimulator {
    var locations: [String: SimLocation] = [:]
    var locationOrder: [String] = []
    /// Each location's place in ``locationOrder``.
    var locationPosition: [String: Int] = [:]
    /// For the App Store lookup: the location whose copy of each app (by adamId) answers, the first in
    /// ``locationOrder`` holding it, so a lookup does not walk every location (at 10,000 locations that walk was
    /// most of the simulator's CPU, and a benchmark on the same cores counted it against vpp).
    var lookupHolder: [String: String] = [:]
    var tokens: [String: SimToken] = [:]
    var buckets: [String: TokenBucket] = [:]
    var faults: [SimulatorFault] = []
    public private(set) var settings: SimulatorSettings
    /// The last filtered assignment walk: a client pages through one query, and filtering every
    /// assignment again for each page made a 1,000,000-assignment walk quadratic.
    var assignmentWalkCache: AssignmentWalkCache?
    /// Where the server is reachable, for the absolute URLs in `service/config`.
    var publicBaseURL: String = "http://127.0.0.1"
    let notifier: SimNotifier
    let logger: Logger
    let now: @Sendable () -> Date
    /// Count of Apple API requests served, by path (for tests and benchmarks).
    var requestCounts: [String: Int] = [:]
    /// How many requests the rate limiter refused with 429/9646.
    public internal(set) var rateLimitedCount = 0

    public init(
        settings: SimulatorSettings = SimulatorSettings(),
        logger: Logger = Logger(label: "vppsim"),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.settings = settings
        self.logger = logger
        self.now = now
        self.notifier = SimNotifier(logger: logger)
    }

    func setPublicBaseURL(_ url: String) { publicBaseURL = url }

    // MARK: Admin surface (also exposed over HTTP by SimulatorServer)

    /// Creates a location and returns its `uId`.
    @discardableResult
    public func createLocation(
        name: String,
        countryCode: String = "US",
        orgName: String? = nil,
        uId: String? = nil
    ) -> String {
        let id = uId ?? String(Int.random(in: 1_000_000_000_000_000...9_999_999_999_999_999))
        if locations[id] == nil {
            locationPosition[id] = locationOrder.count
            locationOrder.append(id)
        }
        locations[id] = SimLocation(
            uId: id,
            name: name,
            countryCode: countryCode.uppercased(),
            orgName: orgName ?? name
        )
        return id
    }

    /// Adds an asset or replaces its counts and flags.
    public func upsertAsset(_ asset: SimAsset, at locationUID: String) throws {
        let before = locations[locationUID]?.assets[asset.key]?.totalCount
        try mutateLocation(locationUID) { location in
            if location.assets[asset.key] == nil { location.assetOrder.append(asset.key) }
            location.assets[asset.key] = asset
            location.bumpVersion()
        }
        noteLookupHolder(of: asset.adamId, at: locationUID)
        // Licences bought, transferred in or refunded: Apple tells the holder with ASSET_COUNT (countDelta).
        if let before, before != asset.totalCount {
            let body: [String: Any] = [
                "adamId": asset.adamId, "pricingParam": asset.pricingParam, "countDelta": asset.totalCount - before,
            ]
            let notifications = SendableNotifications(items: [["type": "ASSET_COUNT", "body": body]])
            Task { await self.sendNotifications(locationUID, notifications) }
        }
    }

    /// Adds many assets at once (benchmarks seed thousands).
    public func upsertAssets(_ assets: [SimAsset], at locationUID: String) throws {
        try mutateLocation(locationUID) { location in
            for asset in assets {
                if location.assets[asset.key] == nil { location.assetOrder.append(asset.key) }
                location.assets[asset.key] = asset
            }
            location.bumpVersion()
        }
        for adamId in Set(assets.map(\.adamId)) { noteLookupHolder(of: adamId, at: locationUID) }
    }

    /// Records assignments directly, as if another MDM (or a person in ABM) had made them.
    public func seedAssignments(
        adamId: String,
        pricingParam: String = "STDQ",
        serialNumbers: [String] = [],
        clientUserIds: [String] = [],
        at locationUID: String
    ) throws {
        try mutateLocation(locationUID) { location in
            let key = SimAssetKey(adamId: adamId, pricingParam: pricingParam)
            guard location.assets[key] != nil else {
                throw SimAdminError("no asset \(adamId)/\(pricingParam) at \(locationUID)")
            }
            location.bumpVersion()
            for serial in serialNumbers { Self.addAssignment(&location, key, serial: serial, user: nil) }
            for user in clientUserIds { Self.addAssignment(&location, key, serial: nil, user: user) }
        }
    }

    /// Deletes assignments behind the MDM's back (a person in ABM, another MDM, Apple losing them): no event, no
    /// notification; the licences go back to the pool.
    public func dropAssignments(
        adamId: String,
        pricingParam: String = "STDQ",
        serialNumbers: [String] = [],
        clientUserIds: [String] = [],
        at locationUID: String
    ) throws {
        try mutateLocation(locationUID) { location in
            let key = SimAssetKey(adamId: adamId, pricingParam: pricingParam)
            let serials = Set(serialNumbers), users = Set(clientUserIds)
            let removed = Self.removeAssignments(&location) { assignment in
                assignment.asset == key
                    && (assignment.serialNumber.map(serials.contains) ?? false
                        || assignment.clientUserId.map(users.contains) ?? false)
            }
            if !removed.isEmpty { location.bumpVersion() }
        }
    }

    /// Registers a user directly (as `users/create` would, without an event).
    public func seedUser(clientUserId: String, email: String? = nil, at locationUID: String) throws {
        try mutateLocation(locationUID) { location in
            location.bumpVersion()
            location.users.append(
                SimUser(
                    clientUserId: clientUserId,
                    email: email,
                    status: "Registered",
                    inviteCode: UUID().uuidString.prefix(8).lowercased(),
                    modifiedAtVersion: location.version
                )
            )
        }
    }

    /// Mints a `.vpptoken` file for a location and returns its text (Base64 of `{token, expDate, orgName}`).
    public func mintToken(for locationUID: String, expiresAt: Date) throws -> String {
        guard let location = locations[locationUID] else { throw SimAdminError("no location \(locationUID)") }
        let inner = Data((0..<48).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let json: [String: String] = [
            "token": inner, "expDate": Self.formatDate(expiresAt), "orgName": location.orgName,
        ]
        let text = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]).base64EncodedString()
        tokens[text] = SimToken(bearer: text, locationUID: locationUID, expiresAt: expiresAt, revoked: false)
        return text
    }

    /// Makes every token of the location expired (answers 9621).
    public func expireTokens(of locationUID: String) {
        for (key, token) in tokens where token.locationUID == locationUID {
            tokens[key]?.expiresAt = now().addingTimeInterval(-1)
        }
    }

    /// Revokes every token of the location (answers 9625).
    public func revokeTokens(of locationUID: String) {
        for (key, token) in tokens where token.locationUID == locationUID { tokens[key]?.revoked = true }
    }

    /// Sets (or clears) the holder, e.g. ``SimMDMInfo/appleConfigurator``.
    public func setMDMInfo(_ info: SimMDMInfo?, at locationUID: String) throws {
        try mutateLocation(locationUID) { $0.mdmInfo = info }
    }

    public func updateSettings(_ change: (inout SimulatorSettings) -> Void) { change(&settings) }
    public func replaceSettings(_ newSettings: SimulatorSettings) { settings = newSettings }
    public func injectFault(_ fault: SimulatorFault) { faults.append(fault) }
    public func clearFaults() { faults.removeAll() }

    /// Counts and holder of a location, for tests and the admin API.
    public func snapshot(of locationUID: String) -> SimLocationSnapshot? {
        guard let location = locations[locationUID] else { return nil }
        return SimLocationSnapshot(
            uId: location.uId,
            name: location.name,
            mdmInfo: location.mdmInfo,
            assignmentCount: location.assignments.count,
            assignedByAsset: Dictionary(
                location.assets.keys.map { ("\($0.adamId)/\($0.pricingParam)", location.assignedCount($0)) },
                uniquingKeysWith: +
            ),
            notificationUrl: location.notificationUrl,
            userCount: location.users.count
        )
    }

    public func totalRequests() -> Int { requestCounts.values.reduce(0, +) }
    public func resetRequestCounts() {
        requestCounts = [:]
        rateLimitedCount = 0
    }
    /// Requests served for one endpoint, e.g. `"assets/associate"`.
    public func requestCount(_ endpoint: String) -> Int { requestCounts[endpoint] ?? 0 }

    // MARK: Helpers

    /// Keeps ``lookupHolder`` the first location in order holding `adamId`.
    private func noteLookupHolder(of adamId: String, at uid: String) {
        if let holder = lookupHolder[adamId], (locationPosition[holder] ?? .max) <= (locationPosition[uid] ?? .max) {
            return
        }
        lookupHolder[adamId] = uid
    }

    /// Changes a location in place: copying it out and back would make every append copy the whole assignment
    /// list (copy-on-write), so seeding 1,000,000 assignments was quadratic.
    func mutateLocation(_ uid: String, _ body: (inout SimLocation) throws -> Void) throws {
        guard locations[uid] != nil else { throw SimAdminError("no location \(uid)") }
        try body(&locations[uid]!)
    }

    static func addAssignment(_ location: inout SimLocation, _ key: SimAssetKey, serial: String?, user: String?) {
        let indexKey = SimLocation.assignmentKey(key, serial: serial, user: user)
        guard location.assignmentIndex[indexKey] == nil else { return }
        location.assignmentIndex[indexKey] = location.assignments.count
        location.assignedByAsset[key, default: 0] += 1
        location.assignmentRevision += 1
        location.assignments.append(
            SimAssignment(asset: key, serialNumber: serial, clientUserId: user, modifiedAtVersion: location.version)
        )
        location.logLicence(.associated, key, serial: serial, user: user)
    }

    static func removeAssignments(
        _ location: inout SimLocation,
        where shouldRemove: (SimAssignment) -> Bool
    ) -> [SimAssignment] {
        let removed = location.assignments.filter(shouldRemove)
        guard !removed.isEmpty else { return [] }
        location.assignments.removeAll(where: shouldRemove)
        location.assignmentRevision += 1
        for assignment in removed {
            location.assignedByAsset[assignment.asset, default: 0] -= 1
            location.logLicence(
                .disassociated,
                assignment.asset,
                serial: assignment.serialNumber,
                user: assignment.clientUserId
            )
        }
        location.assignmentIndex = Dictionary(
            uniqueKeysWithValues: location.assignments.enumerated().map {
                (
                    SimLocation.assignmentKey(
                        $0.element.asset,
                        serial: $0.element.serialNumber,
                        user: $0.element.clientUserId
                    ), $0.offset
                )
            }
        )
        return removed
    }

    static func formatDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ssZ"
        return formatter.string(from: date)
    }
}

/// A location's state summarised for tests and the admin API.
public struct SimLocationSnapshot: Codable, Sendable {
    public let uId: String
    public let name: String
    public let mdmInfo: SimMDMInfo?
    public let assignmentCount: Int
    public let assignedByAsset: [String: Int]
    public let notificationUrl: String?
    public let userCount: Int
}

/// A refused admin request.
public struct SimAdminError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
